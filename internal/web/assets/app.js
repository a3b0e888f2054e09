// edgemq dashboard: plain JavaScript, no dependencies, no external requests.
// Every string from the API goes through textContent / setAttribute, never innerHTML.
(() => {
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const SVGNS = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 2000;
const HISTORY_MS = 10000;
const LIVE_MAX = 200;
const PAGES = ['overview', 'clients', 'topics', 'live', 'bridges', 'devices', 'config'];

// ---------- state ----------
let csrf = '';
let authed = false;
let current = '';      // current page name
let gen = 0;           // bumped on every route change / login change
let skew = 0;          // server clock minus browser clock, ms (from the Date header)
const loaded = {};     // page -> true once its first data has rendered (this visit)
const busy = {};       // page -> request in flight

// ---------- small helpers ----------
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}
function setText(node, s) {
  s = s == null ? '' : String(s);
  if (node.textContent !== s) node.textContent = s;
}
function setTitle(node, s) {
  if (s) { if (node.title !== s) node.title = s; } else if (node.hasAttribute('title')) node.removeAttribute('title');
}
const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
function fmtInt(v) {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}
const plainInt = (v) => (typeof v === 'number' && isFinite(v) ? String(Math.round(v)) : '–');
function fmtRate(v) {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}
function fmtBytes(v) {
  if (typeof v !== 'number' || !isFinite(v)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + u[i];
}
function fmtDur(s) {
  if (typeof s !== 'number' || !isFinite(s)) return '–';
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m ${x}s`;
  if (m) return `${m}m ${x}s`;
  return `${x}s`;
}
const parseT = (t) => { const ms = t ? Date.parse(t) : NaN; return isNaN(ms) ? null : ms; };
const pad = (n) => String(n).padStart(2, '0');
function fmtClock(ms, secs = true) {
  const d = new Date(ms);
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (secs ? ':' + pad(d.getSeconds()) : '');
}
function fmtWhen(t) {        // absolute local time, with the date when not today
  const ms = parseT(t);
  if (ms == null) return '';
  const d = new Date(ms), now = new Date();
  const day = d.toDateString() === now.toDateString() ? '' :
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `;
  return day + fmtClock(ms);
}
function fmtAgo(t) {         // "3m 2s ago", using the server's clock
  const ms = parseT(t);
  if (ms == null) return '–';
  const s = (Date.now() + skew - ms) / 1000;
  return s < 1 ? 'just now' : fmtDur(s) + ' ago';
}
const yesNo = (b) => (b ? 'yes' : 'no');
function payloadText(o) {
  if (!o) return '';
  let s;
  if (typeof o.payload === 'string') s = o.payload;
  else if (typeof o.payload_b64 === 'string') s = 'base64: ' + o.payload_b64;
  else s = '';
  return o.truncated ? s + ' …' : s;
}

// ---------- error banner ----------
let errorSticky = false;
function showError(msg, sticky = false) {
  setText($('#error-text'), msg);
  $('#error').hidden = false;
  errorSticky = errorSticky || sticky;
}
function clearError(force = false) {
  if (errorSticky && !force) return;
  errorSticky = false;
  $('#error').hidden = true;
  setText($('#error-text'), '');
}

// ---------- API ----------
class AuthError extends Error {}

async function api(method, path, body, retried = false) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (method !== 'GET') {
    if (csrf) opts.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new Error('Cannot reach the gateway (' + (e && e.message || 'network error') + ')');
  }
  const date = parseT(res.headers.get('Date'));
  if (date != null) skew = date - Date.now();
  if (res.status === 401 && !path.endsWith('/login')) {
    showLogin();
    throw new AuthError('login required');
  }
  if (res.status === 403 && method !== 'GET' && !retried && csrf && !path.endsWith('/login')) {
    // The CSRF token may have changed (e.g. the server restarted): fetch it again once.
    try {
      const s = await api('GET', '/api/v1/session');
      if (s && s.csrf) { csrf = s.csrf; return api(method, path, body, true); }
    } catch (e) { if (e instanceof AuthError) throw e; }
  }
  let data = null;
  const text = res.status === 204 ? '' : await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    let msg = data && typeof data.error === 'string' ? data.error : (text.trim().slice(0, 200) || res.statusText);
    const err = new Error(`${method} ${path.split('?')[0]}: ${res.status} ${msg}`);
    err.status = res.status;
    err.apiMessage = msg;
    throw err;
  }
  if (text && data === null) throw new Error(`${method} ${path.split('?')[0]}: response is not JSON`);
  return data;
}

// ---------- session / login ----------
function setSession(s) {
  csrf = s.csrf || '';
  authed = true;
  setText($('#user'), s.user || (s.open ? 'open access' : ''));
  $('#logout').hidden = !!s.open;
  $('#who').hidden = false;
  $('#nav').hidden = false;
  $('#login-page').hidden = true;
  document.body.dataset.view = 'app';
}

function showLogin(msg) {
  const wasAuthed = authed || document.body.dataset.view !== 'login';
  authed = false;
  csrf = '';
  gen++;
  stopLive();
  for (const p of PAGES) $('#page-' + p).hidden = true;
  $('#nav').hidden = true;
  $('#who').hidden = true;
  $('#login-page').hidden = false;
  document.body.dataset.view = 'login';
  document.body.dataset.ready = '0';
  clearError(true);
  if (msg) setText($('#login-error'), msg);
  if (wasAuthed) {
    const u = $('#login input[name=username]');
    if (u && !u.value) u.focus(); else $('#login input[name=password]').focus();
  }
}

async function checkSession() {
  try {
    const s = await api('GET', '/api/v1/session');
    setSession(s || {});
    route();
  } catch (e) {
    if (e instanceof AuthError) return;
    showError(e.message);
    setTimeout(checkSession, 5000);   // the gateway may be restarting
  }
}

$('#login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const btn = $('button[type=submit]', f);
  setText($('#login-error'), '');
  btn.disabled = true;
  try {
    const s = await api('POST', '/api/v1/login', { username: f.username.value, password: f.password.value });
    f.password.value = '';
    setText($('#login-error'), '');
    setSession(Object.assign({ open: false }, s || {}));
    route();
  } catch (e) {
    setText($('#login-error'), e.status === 401 || e.status === 403
      ? (e.apiMessage || 'Wrong user or password')
      : (e.apiMessage || e.message));
    f.password.select();
  } finally {
    btn.disabled = false;
  }
});

$('#logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/v1/logout', {});
  } catch (e) {
    if (e instanceof AuthError) return;
    showError(e.message, true);
    return;
  }
  showLogin();
});

$('#error-close').addEventListener('click', () => clearError(true));

// ---------- keyed tables ----------
// cols: [{cls, field, text(item) -> string, title(item) -> string, cell(td, item)}]
// Rows are reused by key so a refresh never replaces a button the user is about to click.
function updateTable(table, items, keyAttr, keyOf, cols) {
  const tbody = table.tBodies[0];
  const rows = new Map();
  for (const tr of Array.from(tbody.rows)) rows.set(tr.getAttribute(keyAttr), tr);
  let prev = null;
  for (const it of items) {
    const key = String(keyOf(it));
    let tr = rows.get(key);
    if (tr) rows.delete(key);
    else {
      tr = el('tr');
      tr.setAttribute(keyAttr, key);
      for (const c of cols) {
        const td = el('td', { class: c.cls });
        if (c.field) td.dataset.field = c.field;
        tr.append(td);
      }
    }
    cols.forEach((c, i) => {
      const td = tr.cells[i];
      if (c.cell) c.cell(td, it);
      else setText(td, c.text(it));
      if (c.title) setTitle(td, c.title(it));
    });
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  for (const tr of rows.values()) tr.remove();
  const empty = table.closest('.scroll') && table.closest('.scroll').nextElementSibling;
  if (empty && empty.classList.contains('empty')) empty.hidden = items.length > 0;
}
// A cell holding at most one button, kept across refreshes.
function buttonCell(cls, label) {
  return (td, it, show) => {
    let b = td.querySelector('button');
    if (show && !b) td.append(el('button', { type: 'button', class: cls, text: label }));
    else if (!show && b) b.remove();
  };
}
function ynCell(field, get) {
  return {
    field, text: (it) => yesNo(get(it)),
    cell(td, it) { const v = !!get(it); setText(td, yesNo(v)); td.className = v ? 'ok' : 'bad'; },
  };
}
function errCell() {
  return {
    field: 'last-error',
    cell(td, it) {
      setText(td, it.last_error || '');
      setTitle(td, it.last_error_at ? 'at ' + fmtWhen(it.last_error_at) + ' (' + fmtAgo(it.last_error_at) + ')' : '');
      td.className = it.last_error ? 'bad wrap' : 'wrap';
    },
  };
}

// ---------- charts ----------
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
function tickLabel(v) {
  if (v >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
  if (v >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
  return String(+v.toFixed(2));
}
// series: [{name, cls, values: [number|null]}], times: [ms]; gaps break the line.
function drawChart(node, times, series, opts = {}) {
  const W = 800, H = 260, L = 56, R = 12, T = 30, B = 34;
  const pw = W - L - R, ph = H - T - B;
  const g = svg('g');
  const now = Date.now() + skew;
  const t1 = times.length ? Math.max(times[times.length - 1], now - 60000) : now;
  const t0 = t1 - 3600 * 1000;
  let max = 0;
  for (const s of series) for (const v of s.values) if (v != null && v > max) max = v;
  const ymax = niceMax(max);
  const x = (t) => L + (t - t0) / (t1 - t0) * pw;
  const y = (v) => T + ph - v / ymax * ph;
  // grid + y labels
  for (let i = 0; i <= 4; i++) {
    const v = ymax * i / 4, yy = y(v).toFixed(1);
    g.append(svg('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: i ? 'grid' : 'axis' }));
    g.append(svg('text', { x: L - 6, y: +yy + 4, 'text-anchor': 'end', class: 'tick' }, tickLabel(v)));
  }
  g.append(svg('line', { x1: L, x2: L, y1: T, y2: T + ph, class: 'axis' }));
  // x labels every 10 minutes
  const step = 600000;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const xx = x(t).toFixed(1);
    g.append(svg('line', { x1: xx, x2: xx, y1: T + ph, y2: T + ph + 4, class: 'axis' }));
    g.append(svg('text', { x: xx, y: H - B + 18, 'text-anchor': 'middle', class: 'tick' }, fmtClock(t, false)));
  }
  g.append(svg('text', { x: 4, y: 14, class: 'label' }, opts.yLabel || ''));
  g.append(svg('text', { x: W - R, y: H - 2, 'text-anchor': 'end', class: 'label' }, 'local time'));
  // lines
  const gapMs = (opts.interval || 10) * 1000 * 2.5;
  series.forEach((s, si) => {
    let d = '', last = null, single = [];
    s.values.forEach((v, i) => {
      if (v == null || times[i] < t0) { last = null; return; }
      const pt = x(times[i]).toFixed(1) + ' ' + y(v).toFixed(1);
      if (last == null || times[i] - last > gapMs) { d += 'M' + pt; single.push(i); } else { d += 'L' + pt; single.pop(); single.push(-1); }
      last = times[i];
    });
    if (d) g.append(svg('path', { d, class: 'line s' + (s.cls != null ? s.cls : si) }));
    for (const i of single) if (i >= 0) g.append(svg('circle', { cx: x(times[i]).toFixed(1), cy: y(s.values[i]).toFixed(1), r: 3, class: 'dot s' + (s.cls != null ? s.cls : si) }));
  });
  // legend
  let lx = W - R;
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i], cls = 's' + (s.cls != null ? s.cls : i);
    const last = s.values.length ? s.values[s.values.length - 1] : null;
    const label = s.name + (last != null ? ' (' + tickLabel(last) + ')' : '');
    const w = 26 + label.length * 7.4;
    lx -= w;
    g.append(svg('line', { x1: lx, x2: lx + 18, y1: 10, y2: 10, class: 'line ' + cls }));
    g.append(svg('text', { x: lx + 22, y: 14, class: 'legend' }, label));
    lx -= 10;
  }
  if (!times.length || !series.length) {
    g.append(svg('text', { x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle', class: 'label' }, opts.empty || 'No data yet'));
  }
  node.replaceChildren(g);
}

let historyCache = null, historyAt = 0;
async function getHistory(force) {
  if (force || !historyCache || Date.now() - historyAt >= HISTORY_MS) {
    historyCache = await api('GET', '/api/v1/history');
    historyAt = Date.now();
  }
  return historyCache || { points: [] };
}

// ---------- pages ----------
function field(page, name, value, title) {
  const n = $(`#page-${page} [data-field="${name}"]`);
  if (n) { setText(n, value); if (title !== undefined) setTitle(n, title); }
}

const pages = {};

pages.overview = {
  refresh: true,
  async load() {
    let warn = '';
    const [o, h] = await Promise.all([
      api('GET', '/api/v1/overview'),
      getHistory().catch((e) => { if (e instanceof AuthError) throw e; warn = e.message; return null; }),
    ]);
    const c = o.clients || {}, m = o.messages || {}, b = o.bytes || {}, mem = o.memory || {}, d = o.disk || {};
    const f = (n, v, t) => field('overview', n, v, t);
    const warns = Array.isArray(o.warnings) ? o.warnings : [];
    const wn = document.getElementById('warnings');
    if (wn.dataset.text !== warns.join('\n')) {
      wn.replaceChildren(...warns.map((w) => el('p', { text: w })));
      wn.dataset.text = warns.join('\n');
    }
    wn.hidden = warns.length === 0;
    f('clients-connected', plainInt(c.connected));
    f('clients-sessions', fmtInt(c.sessions));
    f('clients-maximum', fmtInt(c.maximum));
    f('received-per-second', fmtRate(m.received_per_second));
    f('sent-per-second', fmtRate(m.sent_per_second));
    f('messages-received', fmtInt(m.received));
    f('messages-sent', fmtInt(m.sent));
    f('messages-dropped', fmtInt(m.dropped));
    f('bytes-received', fmtBytes(b.received));
    f('bytes-sent', fmtBytes(b.sent));
    f('gateway-id', o.gateway_id || '–');
    f('hardware', o.hardware || '–');
    f('version', o.version || '–');
    f('uptime', fmtDur(o.uptime_seconds));
    f('started-at', fmtWhen(o.started_at) || '–', o.started_at || '');
    f('memory-heap', fmtBytes(mem.heap_bytes));
    f('memory-sys', fmtBytes(mem.sys_bytes));
    f('memory-limit', mem.limit_bytes ? fmtBytes(mem.limit_bytes) : 'none');
    f('disk-used', fmtBytes(d.used_bytes));
    f('disk-free', fmtBytes(d.free_bytes));
    f('disk-dir', d.dir || '');
    f('subscriptions', fmtInt(o.subscriptions));
    f('retained', fmtInt(o.retained));
    f('bridges', fmtInt(o.bridges));
    f('sinks', fmtInt(o.sinks));
    f('devices', fmtInt(o.devices));
    setText($('#gateway-name'), o.gateway_id || '');
    document.title = (o.gateway_id ? o.gateway_id + ' · ' : '') + 'edgemq';
    if (h) {
      const pts = Array.isArray(h.points) ? h.points : [];
      drawChart($('#chart-messages'), pts.map((p) => parseT(p.t)), [
        { name: 'received', cls: 0, values: pts.map((p) => num(p.received_per_second)) },
        { name: 'sent', cls: 1, values: pts.map((p) => num(p.sent_per_second)) },
      ], { yLabel: 'messages / s', interval: h.interval_seconds });
    }
    return warn;
  },
};

pages.clients = {
  refresh: true,
  async load() {
    const r = await api('GET', '/api/v1/clients');
    const list = (r && r.clients) || [];
    setText($('#clients-total'), list.length < num(r.total) ? `(showing ${list.length} of ${r.total})` : `(${list.length})`);
    const canDisc = (it) => !!it.connected && !it.in_process;
    updateTable($('#clients'), list, 'data-client-id', (it) => it.id, [
      { text: (it) => it.id },
      { text: (it) => it.username || '' },
      { text: (it) => it.in_process ? 'in-process' : (it.address || '') },
      { text: (it) => it.protocol || '' },
      { field: 'connected', cell(td, it) {
          setText(td, it.connected ? 'yes' + (it.connected_at ? ', ' + fmtAgo(it.connected_at) : '') : 'no');
          td.className = it.connected ? 'ok' : 'muted';
          setTitle(td, [it.connected_at ? 'connected at ' + fmtWhen(it.connected_at) : '',
            'clean start: ' + yesNo(it.clean_start),
            typeof it.session_expiry_seconds === 'number' ? 'session expiry: ' + fmtDur(it.session_expiry_seconds) : ''].filter(Boolean).join('\n'));
        } },
      { cls: 'wrap', text: (it) => (it.subscriptions || []).map((s) => `${s.filter} (q${s.qos})`).join(', ') },
      { cls: 'num', text: (it) => plainInt(it.queued) },
      { cls: 'num', text: (it) => plainInt(it.inflight) },
      { cell: (td, it) => buttonCell('disconnect', 'Disconnect')(td, it, canDisc(it)) },
    ]);
  },
};
$('#clients').addEventListener('click', async (ev) => {
  const b = ev.target.closest('button.disconnect');
  if (!b) return;
  const id = b.closest('tr').getAttribute('data-client-id');
  b.disabled = true;
  setText(b, 'Disconnecting…');
  try {
    await api('POST', '/api/v1/clients/disconnect?id=' + encodeURIComponent(id), {});
    await refreshNow();
  } catch (e) {
    if (!(e instanceof AuthError)) showError(e.message, true);
  } finally {
    if (b.isConnected) { b.disabled = false; setText(b, 'Disconnect'); }
  }
});

// Topics: plain text filters locally (substring); text with + or # (or $SYS...) is an MQTT filter for the server.
const pendingDelete = new Map();  // topic -> timer id
let topicsData = null;
function isMqttFilter(s) { return /[+#]/.test(s) || s.startsWith('$'); }
function renderTopics() {
  if (!topicsData) return;
  const q = $('#topic-filter').value.trim();
  let list = (topicsData.topics || []);
  if (q && !isMqttFilter(q)) { const ql = q.toLowerCase(); list = list.filter((t) => String(t.topic).toLowerCase().includes(ql)); }
  setText($('#topics-total'), `(${list.length}${num(topicsData.total) > list.length ? ' of ' + topicsData.total : ''})`);
  updateTable($('#topics'), list, 'data-topic', (it) => it.topic, [
    { cls: 'topic', text: (it) => it.topic },
    { cls: 'payload', text: payloadText },
    { text: (it) => fmtAgo(it.last_at), title: (it) => fmtWhen(it.last_at) },
    { cls: 'num', text: (it) => fmtInt(it.messages) },
    { cls: 'num', text: (it) => fmtRate(it.per_minute) },
    { text: (it) => yesNo(it.retained) },
  ]);
}
function renderRetained(r) {
  const list = (r && r.retained) || [];
  setText($('#retained-total'), `(${list.length}${num(r.total) > list.length ? ' of ' + r.total : ''})`);
  updateTable($('#retained'), list, 'data-topic', (it) => it.topic, [
    { cls: 'topic', text: (it) => it.topic },
    { cls: 'payload', text: payloadText },
    { cls: 'num', text: (it) => plainInt(it.qos) },
    { cls: 'num', text: (it) => fmtInt(it.bytes) },
    { cell(td, it) {
        buttonCell('delete-retained', 'Delete')(td, it, true);
        const b = td.querySelector('button');
        if (b.disabled) return;   // delete in flight
        const pending = pendingDelete.has(it.topic);
        setText(b, pending ? 'Confirm delete' : 'Delete');
        b.classList.toggle('danger', pending);
      } },
  ]);
}
pages.topics = {
  refresh: true,
  async load() {
    const q = $('#topic-filter').value.trim();
    const qs = q && isMqttFilter(q) ? '?filter=' + encodeURIComponent(q) : '';
    const [t, r] = await Promise.all([api('GET', '/api/v1/topics' + qs), api('GET', '/api/v1/retained')]);
    topicsData = t || { topics: [] };
    renderTopics();
    renderRetained(r);
  },
};
let filterTimer = 0;
$('#topic-filter').addEventListener('input', () => {
  renderTopics();                       // instant for plain text
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => { if (current === 'topics') refreshNow(); }, 300);
});
$('#retained').addEventListener('click', async (ev) => {
  const b = ev.target.closest('button.delete-retained');
  if (!b || b.disabled) return;
  const tr = b.closest('tr');
  const topic = tr.getAttribute('data-topic');
  if (!pendingDelete.has(topic)) {
    pendingDelete.set(topic, setTimeout(() => {
      pendingDelete.delete(topic);
      if (b.isConnected && !b.disabled) { setText(b, 'Delete'); b.classList.remove('danger'); }
    }, 5000));
    setText(b, 'Confirm delete');
    b.classList.add('danger');
    return;
  }
  clearTimeout(pendingDelete.get(topic));
  pendingDelete.delete(topic);
  b.disabled = true;
  setText(b, 'Deleting…');
  try {
    await api('DELETE', '/api/v1/retained?topic=' + encodeURIComponent(topic));
    tr.remove();
    refreshNow();
  } catch (e) {
    if (!(e instanceof AuthError)) showError(e.message, true);
    if (b.isConnected) { b.disabled = false; setText(b, 'Delete'); b.classList.remove('danger'); }
  }
});

// Live
let es = null, liveFilterUsed = null, skippedTotal = 0, liveReadyTimer = 0;
function liveStatus(s, cls) { const n = $('#live-status'); setText(n, s); n.className = cls || 'muted'; }
function stopLive() {
  clearTimeout(liveReadyTimer);
  if (es) { es.close(); es = null; }
  if ($('#live-status')) liveStatus('stopped');
}
function startLive() {
  stopLive();
  const filter = $('#live-filter').value.trim() || '#';
  if (filter !== liveFilterUsed) {
    $('#live-messages').replaceChildren();
    skippedTotal = 0;
    setText($('#live-skipped'), '');
    liveFilterUsed = filter;
  }
  const myGen = gen;
  const ready = () => { clearTimeout(liveReadyTimer); if (gen === myGen && current === 'live') markReady('live'); };
  document.body.dataset.ready = '0';
  liveStatus('connecting…');
  const src = new EventSource('/api/v1/stream?filter=' + encodeURIComponent(filter));
  es = src;
  liveReadyTimer = setTimeout(ready, 1500);   // in case the server sends headers late
  src.addEventListener('open', () => { if (es === src) { liveStatus('receiving', 'ok'); clearError(); ready(); } });
  src.addEventListener('message', (ev) => {
    if (es !== src) return;
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    addLive(m);
  });
  src.addEventListener('skipped', (ev) => {
    if (es !== src) return;
    try { skippedTotal += num(JSON.parse(ev.data).count); } catch (e) { return; }
    setText($('#live-skipped'), `${fmtInt(skippedTotal)} skipped (over 20/s)`);
  });
  src.addEventListener('error', () => {
    if (es !== src) return;
    ready();
    if (src.readyState === EventSource.CLOSED) {
      es = null;
      liveStatus('disconnected', 'bad');
      // find out why: a lost session sends us to the login form
      api('GET', '/api/v1/session').then(() => showError('Live stream closed by the gateway'), (e) => {
        if (!(e instanceof AuthError)) showError(e.message);
      });
    } else {
      liveStatus('reconnecting…', 'bad');
    }
  });
}
function addLive(m) {
  const ul = $('#live-messages');
  const ms = parseT(m.t);
  const flags = 'q' + num(m.qos) + (m.retain ? ' retained' : '');
  const li = el('li', null,
    el('span', { class: 'time', text: ms != null ? fmtClock(ms) + '.' + String(ms % 1000).padStart(3, '0') : '' }),
    el('span', { class: 'topic', text: String(m.topic) }),
    el('span', { class: 'flags', text: flags }),
    el('span', { class: 'payload', text: payloadText(m).slice(0, 4096) }));
  li.setAttribute('data-topic', String(m.topic));
  ul.prepend(li);
  while (ul.childElementCount > LIVE_MAX) ul.lastElementChild.remove();
}
pages.live = {
  refresh: false,
  manualReady: true,
  async load() { if (!es) startLive(); },
  leave: stopLive,
};
$('#live-start').addEventListener('click', () => startLive());
$('#live-stop').addEventListener('click', () => stopLive());
$('#live-form').addEventListener('submit', (ev) => { ev.preventDefault(); startLive(); });

// Bridges and sinks
function queueCols() {
  return [
    { cls: 'num', field: 'queue-messages', text: (it) => plainInt((it.queue || {}).messages) },
    { cls: 'num', field: 'queue-bytes', text: (it) => fmtBytes((it.queue || {}).bytes),
      title: (it) => (it.queue && typeof it.queue.disk_bytes === 'number' ? 'on disk: ' + fmtBytes(it.queue.disk_bytes) : '') },
    { cls: 'num', field: 'queue-oldest', text: (it) => ((it.queue || {}).oldest_age_seconds ? fmtDur(it.queue.oldest_age_seconds) : '–') },
  ];
}
function droppedCol() {
  return { cls: 'num', field: 'dropped',
    cell(td, it) {
      const d = it.dropped || {};
      setText(td, fmtInt(num(d.total)));
      td.className = 'num' + (num(d.total) > 0 ? ' bad' : '');
      setTitle(td, Object.entries(d).filter(([k]) => k !== 'total').map(([k, v]) => `${k}: ${k === 'bytes' ? fmtBytes(v) : v}`).join('\n'));
    } };
}
function linkCols(addr) {
  return [
    { cls: 'name', text: (it) => it.name },
    { cls: 'wrap', text: (it) => it[addr] || '' },
    ynCell('connected', (it) => it.connected),
    { field: 'since', text: (it) => (it.since ? fmtAgo(it.since) : '–'), title: (it) => fmtWhen(it.since) },
    errCell(),
  ];
}
pages.bridges = {
  refresh: true,
  async load() {
    let warn = '';
    const [b, s, h] = await Promise.all([
      api('GET', '/api/v1/bridges'),
      api('GET', '/api/v1/sinks'),
      getHistory().catch((e) => { if (e instanceof AuthError) throw e; warn = e.message; return null; }),
    ]);
    updateTable($('#bridges'), (b && b.bridges) || [], 'data-bridge', (it) => it.name, [
      ...linkCols('address'), ...queueCols(),
      { cls: 'num', field: 'forwarded', text: (it) => fmtInt(it.forwarded) },
      { cls: 'num', field: 'resent', text: (it) => fmtInt(it.resent) },
      droppedCol(),
      { cls: 'num', field: 'drain', text: (it) => fmtRate(it.drain_per_second) },
    ]);
    updateTable($('#sinks'), (s && s.sinks) || [], 'data-sink', (it) => it.name, [
      ...linkCols('url'), ...queueCols(),
      { cls: 'num', field: 'delivered', text: (it) => fmtInt(it.delivered) },
      { cls: 'num', field: 'resent', text: (it) => fmtInt(it.resent) },
      { cls: 'num', field: 'dead-lettered', text: (it) => fmtInt(it.dead_lettered) },
      { cls: 'num', field: 'requests', text: (it) => fmtInt(it.requests) + ' / ' + fmtInt(it.failures) },
      droppedCol(),
      { cls: 'num', field: 'drain', text: (it) => fmtRate(it.drain_per_second) },
    ]);
    if (h) {
      const pts = Array.isArray(h.points) ? h.points : [];
      const keys = new Set();
      for (const p of pts) for (const k of Object.keys(p.queues || {})) if (k.startsWith('bridge/')) keys.add(k);
      const series = Array.from(keys).sort().map((k, i) => ({
        name: k.slice(7), cls: i % 6,
        values: pts.map((p) => (p.queues && p.queues[k] ? num(p.queues[k].messages) : null)),
      }));
      drawChart($('#chart-queues'), pts.map((p) => parseT(p.t)), series,
        { yLabel: 'queued messages', interval: h.interval_seconds, empty: keys.size ? 'No data yet' : 'No bridge queues' });
    }
    return warn;
  },
};

pages.devices = {
  refresh: true,
  async load() {
    const r = await api('GET', '/api/v1/devices');
    updateTable($('#devices'), (r && r.devices) || [], 'data-device', (it) => it.id, [
      { cls: 'name', text: (it) => it.id },
      { text: (it) => it.type || '' },
      { cls: 'topic', text: (it) => it.topic || '' },
      ynCell('online', (it) => it.online),
      { field: 'last-reading', text: (it) => (it.last_reading ? fmtAgo(it.last_reading) : '–'), title: (it) => fmtWhen(it.last_reading) },
      errCell(),
      { cls: 'wrap', field: 'values', text: (it) => Object.entries(it.values || {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') },
      { cls: 'wrap', field: 'counters',
        text: (it) => Object.entries(it.counters || {}).filter(([, v]) => v).map(([k, v]) => `${k.replace(/_/g, ' ')} ${fmtInt(v)}`).join(', ') || 'all zero',
        title: (it) => Object.entries(it.counters || {}).map(([k, v]) => `${k}: ${v}`).join('\n') },
    ]);
  },
};

pages.config = {
  refresh: false,
  async load() {
    const c = await api('GET', '/api/v1/config');
    setText($('#config'), JSON.stringify(c, null, 2));
  },
};
$('#config-reload').addEventListener('click', () => refreshNow());

// ---------- router and refresh loop ----------
function markReady(page) {
  if (page === current) { loaded[page] = true; document.body.dataset.ready = '1'; }
}
const again = {};       // page -> a load was asked for while one was in flight
async function loadPage(page, myGen) {
  if (busy[page] === myGen) { again[page] = true; return; }
  busy[page] = myGen;
  again[page] = false;
  try {
    const warn = await pages[page].load();
    if (myGen !== gen) return;
    if (warn) showError(warn); else clearError();
    setText($('#updated'), page === 'live' ? '' : 'updated ' + fmtClock(Date.now()));
    if (!pages[page].manualReady) markReady(page);
  } catch (e) {
    if (e instanceof AuthError || myGen !== gen) return;
    showError(e.message);
    if (!pages[page].manualReady) markReady(page);   // rendered: the error banner
  } finally {
    if (busy[page] === myGen) busy[page] = 0;
    if (again[page] && myGen === gen && authed && current === page) { again[page] = false; loadPage(page, gen); }
  }
}
function refreshNow() {
  if (!authed || !current) return Promise.resolve();
  return loadPage(current, gen);
}
function route() {
  let name = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  if (!pages[name]) name = 'overview';
  if (!authed) return;
  if (current && current !== name && pages[current].leave) pages[current].leave();
  const changed = current !== name;
  current = name;
  gen++;
  document.body.dataset.ready = '0';
  document.body.dataset.page = name;
  if (changed) clearError(true);
  for (const p of PAGES) $('#page-' + p).hidden = p !== name;
  for (const a of $$('#nav a')) {
    const on = a.getAttribute('href') === '#/' + name;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  loaded[name] = false;
  loadPage(name, gen);
}
window.addEventListener('hashchange', route);
// Clear the ready flag at the click itself: hashchange fires a moment later.
$('#nav').addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href^="#/"]');
  if (a && a.getAttribute('href') !== location.hash) document.body.dataset.ready = '0';
});
setInterval(() => {
  if (!authed || !current || document.hidden || !pages[current].refresh) return;
  loadPage(current, gen);
}, REFRESH_MS);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && authed && current && pages[current].refresh) loadPage(current, gen);
});

checkSession();
})();

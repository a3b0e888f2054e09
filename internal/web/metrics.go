package web

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// promWriter writes the Prometheus text format (version 0.0.4).
type promWriter struct {
	w    *bufio.Writer
	seen map[string]bool
}

// metric writes one sample; help and typ are written before the first
// sample of name. labels are name, value pairs.
func (p *promWriter) metric(name, typ, help string, v float64, labels ...string) {
	if !p.seen[name] {
		p.seen[name] = true
		fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	p.w.WriteString(name)
	if len(labels) > 0 {
		p.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.w.WriteByte(',')
			}
			p.w.WriteString(labels[i])
			p.w.WriteString(`="`)
			p.w.WriteString(labelEscaper.Replace(labels[i+1]))
			p.w.WriteByte('"')
		}
		p.w.WriteByte('}')
	}
	p.w.WriteByte(' ')
	p.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	p.w.WriteByte('\n')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	p := &promWriter{w: bufio.NewWriter(w), seen: make(map[string]bool)}
	defer p.w.Flush()

	st := s.src.Broker.Stats()
	p.metric("edgemq_build_info", "gauge", "Version of the running gateway.", 1, "version", s.opts.Version, "gateway", s.opts.GatewayID)
	p.metric("edgemq_broker_uptime_seconds", "gauge", "Seconds since the broker started.", st.Uptime.Seconds())
	p.metric("edgemq_broker_clients_connected", "gauge", "Clients connected now.", float64(st.ClientsConnected))
	p.metric("edgemq_broker_sessions", "gauge", "Sessions, connected or not.", float64(st.ClientsTotal))
	p.metric("edgemq_broker_clients_maximum", "gauge", "Most clients connected at once.", float64(st.ClientsMaximum))
	p.metric("edgemq_broker_connections_total", "counter", "Connections accepted.", float64(st.ConnectionsTotal))
	p.metric("edgemq_broker_messages_received_total", "counter", "PUBLISH packets received.", float64(st.MessagesReceived))
	p.metric("edgemq_broker_messages_sent_total", "counter", "PUBLISH packets sent.", float64(st.MessagesSent))
	p.metric("edgemq_broker_bytes_received_total", "counter", "Bytes received.", float64(st.BytesReceived))
	p.metric("edgemq_broker_bytes_sent_total", "counter", "Bytes sent.", float64(st.BytesSent))
	p.metric("edgemq_broker_messages_dropped_total", "counter", "Messages dropped (full queues, expiry).", float64(st.PublishDropped))
	p.metric("edgemq_broker_subscriptions", "gauge", "Subscriptions.", float64(st.Subscriptions))
	p.metric("edgemq_broker_retained_messages", "gauge", "Retained messages.", float64(st.RetainedMessages))

	if s.src.Bridges != nil {
		bs := s.src.Bridges()
		sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
		for _, b := range bs {
			l := []string{"bridge", b.Name}
			st := b.Stats
			p.metric("edgemq_bridge_connected", "gauge", "1 while the bridge's uplink is connected.", b2f(st.Connected), l...)
			p.metric("edgemq_bridge_queue_messages", "gauge", "Records in the bridge's queue.", float64(st.Queue.Records), l...)
			p.metric("edgemq_bridge_queue_bytes", "gauge", "Bytes in the bridge's queue.", float64(st.Queue.Bytes), l...)
			p.metric("edgemq_bridge_queue_oldest_age_seconds", "gauge", "Age of the oldest queued record.", st.Queue.OldestAge.Seconds(), l...)
			p.metric("edgemq_bridge_forwarded_total", "counter", "Records acknowledged by the uplink.", float64(st.Forwarded), l...)
			p.metric("edgemq_bridge_resent_total", "counter", "Records sent again after a reconnect.", float64(st.Resent), l...)
			p.metric("edgemq_bridge_received_total", "counter", "Messages from in rules published locally.", float64(st.Received), l...)
			d := st.Queue.Dropped
			for _, kv := range []struct {
				reason string
				n      uint64
			}{{"bytes", d.Bytes}, {"count", d.Count}, {"age", d.Age}, {"rejected", d.Rejected}, {"corrupt", d.Corrupt},
				{"refused", st.Refused}, {"oversize", st.Oversize}, {"topic_limit", st.TopicLimit}} {
				p.metric("edgemq_bridge_dropped_total", "counter", "Records dropped, by reason.", float64(kv.n), "bridge", b.Name, "reason", kv.reason)
			}
		}
	}
	if s.src.Sinks != nil {
		for _, sk := range s.src.Sinks() {
			l := []string{"sink", sk.Name}
			st := sk.Stats
			p.metric("edgemq_sink_queue_messages", "gauge", "Records in the sink's queue.", float64(st.Queue.Records), l...)
			p.metric("edgemq_sink_queue_bytes", "gauge", "Bytes in the sink's queue.", float64(st.Queue.Bytes), l...)
			p.metric("edgemq_sink_queue_oldest_age_seconds", "gauge", "Age of the oldest queued record.", st.Queue.OldestAge.Seconds(), l...)
			p.metric("edgemq_sink_delivered_total", "counter", "Messages delivered (2xx).", float64(st.Delivered), l...)
			p.metric("edgemq_sink_dead_lettered_total", "counter", "Messages refused with a 4xx and not retried.", float64(st.DeadLettered), l...)
			p.metric("edgemq_sink_requests_total", "counter", "Requests made.", float64(st.Requests), l...)
			p.metric("edgemq_sink_failures_total", "counter", "Requests without a 2xx answer.", float64(st.Failures), l...)
			p.metric("edgemq_sink_dropped_total", "counter", "Messages dropped.", float64(st.Dropped()), l...)
		}
	}
	if s.src.Devices != nil {
		for _, d := range s.src.Devices() {
			l := []string{"device", d.ID, "type", d.Type}
			st := d.Stats
			p.metric("edgemq_device_online", "gauge", "1 while the device is online.", b2f(st.Online), l...)
			if !st.LastReading.IsZero() {
				p.metric("edgemq_device_last_reading_timestamp_seconds", "gauge", "Time of the last valid reading.", float64(st.LastReading.UnixNano())/1e9, l...)
			}
			p.metric("edgemq_device_published_total", "counter", "Messages published.", float64(st.Published), l...)
			p.metric("edgemq_device_parse_errors_total", "counter", "Input that was not published.", float64(st.ParseErrors), l...)
			p.metric("edgemq_device_failures_total", "counter", "Adapter runs that ended with an error.", float64(st.Failures), l...)
			p.metric("edgemq_device_commands_rejected_total", "counter", "Commands refused.", float64(st.CommandsRejected), l...)
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.metric("go_goroutines", "gauge", "Goroutines.", float64(runtime.NumGoroutine()))
	p.metric("go_sched_gomaxprocs_threads", "gauge", "GOMAXPROCS: the CPU cores Go code runs on at once (see max_procs).", float64(runtime.GOMAXPROCS(0)))
	p.metric("go_memstats_heap_alloc_bytes", "gauge", "Heap bytes allocated and in use.", float64(ms.HeapAlloc))
	p.metric("go_memstats_sys_bytes", "gauge", "Bytes obtained from the OS.", float64(ms.Sys))
	p.metric("go_gc_cycles_total", "counter", "Completed GC cycles.", float64(ms.NumGC))
	p.metric("process_start_time_seconds", "gauge", "Start time of the process.", float64(s.started.UnixNano())/1e9)
	if rss, ok := residentBytes(); ok {
		p.metric("process_resident_memory_bytes", "gauge", "Resident memory.", float64(rss))
	}
	if used, free, err := s.diskUsage(); err == nil {
		p.metric("edgemq_storage_used_bytes", "gauge", "Bytes used by the gateway's database.", float64(used))
		p.metric("edgemq_storage_free_bytes", "gauge", "Bytes free on the database's file system.", float64(free))
	}
}

func (s *Server) diskUsage() (int64, int64, error) {
	if s.src.DiskUsage == nil {
		return 0, 0, fmt.Errorf("no disk usage")
	}
	return s.src.DiskUsage()
}

// residentBytes reads the resident set size from /proc (Linux).
func residentBytes() (int64, bool) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

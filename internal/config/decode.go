package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The decoder walks a yaml.Node tree and stores it into tagged Go
// structs. It knows these Go types:
//
//   - structs: a mapping; each exported field with a `yaml:"name"` tag
//     is a key, `yaml:",inline"` on a struct field adds its keys to the
//     parent; other keys are errors;
//   - map[string]T: a mapping with any keys (replaces the whole map);
//   - []T: a list (replaces the whole list);
//   - *T: allocated when the key is present and not null;
//   - types implementing encoding.TextUnmarshaler (Size, Duration): a
//     scalar given to UnmarshalText, whose error becomes the message;
//   - string: any scalar, taken as written;
//   - bool: true or false;
//   - int, uint and float kinds: numbers, with a range check.
//
// A null value (`key:`, `key: ~`, `key: null`) leaves the field as it
// was, so it keeps its default. Anchors, aliases and merge keys (<<)
// work; duplicate keys and tags other than the standard ones are errors.
// The decoder never stops at the first problem: it records each one and
// goes on with the next key.

// maxAliasNodes limits how many nodes may be reached through aliases, so
// that a small file cannot expand into a huge one ("billion laughs").
const maxAliasNodes = 10000

type decoder struct {
	errorList
	lines      map[string]pos      // key path -> position of its value
	keys       map[string]pos      // key path -> position of its key
	outerAlias *yaml.Node          // the outermost alias being expanded
	expanding  map[*yaml.Node]bool // anchors being expanded (cycle check)
	aliasDepth int                 // >0 while inside an alias
	budget     int                 // nodes left to visit through aliases
	errPaths   map[string]bool     // paths that had a decode error
}

func newDecoder(file string) *decoder {
	return &decoder{
		errorList: errorList{file: file},
		lines:     make(map[string]pos),
		keys:      make(map[string]pos),
		expanding: make(map[*yaml.Node]bool),
		budget:    maxAliasNodes,
		errPaths:  make(map[string]bool),
	}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errPaths[path] = true
	d.addf(n.Line, n.Column, path, format, args...)
}

// decodeDocument parses data, which must hold at most one YAML
// document, and stores it into v. An empty document leaves v as it is.
func (d *decoder) decodeDocument(data []byte, v reflect.Value) {
	if e := checkText(d.file, data); e != nil {
		d.add(e)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decodeYAML(dec, &doc); err != nil {
		if err != io.EOF {
			d.add(syntaxError(d.file, data, err))
		}
		return
	}
	var next yaml.Node
	switch err := decodeYAML(dec, &next); {
	case err == nil:
		d.addf(next.Line, next.Column, "", "a second YAML document starts here; the configuration must be a single document")
	case err != io.EOF:
		d.add(syntaxError(d.file, data, err))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return
	}
	d.decode(doc.Content[0], v, "")
}

// decodeYAML runs the YAML parser, turning a panic in it into an error:
// a broken file must never take the gateway down.
func decodeYAML(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// standardTags are the YAML tags a configuration may use.
var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!timestamp": true, "!!map": true, "!!seq": true, "!!merge": true,
}

// decode stores n into v, which must be settable; path names n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.decodeAlias(n, path, func(target *yaml.Node) { d.decode(target, v, path) })
		return
	}
	if !d.spend(n, path) {
		return
	}
	d.lines[path] = pos{n.Line, n.Column}
	tag := n.ShortTag()
	if !standardTags[tag] {
		d.errorf(n, path, "unsupported tag %s", quote(n.Tag))
		return
	}
	if n.Kind == yaml.ScalarNode && tag == "!!null" {
		return // keep the default
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, v.Type(), path)
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.errorf(n, path, "%s", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			p.Elem().Set(v.Elem())
		}
		before := len(d.errs)
		d.decode(n, p.Elem(), path)
		if len(d.errs) == before {
			v.Set(p)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.wrongType(n, v.Type(), path)
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			d.wrongType(n, v.Type(), path)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := parseInt(n)
		if err == nil && v.OverflowInt(i) {
			err = errRange
		}
		if err != nil {
			d.numberError(n, v.Type(), path, err)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := parseUint(n)
		if err == nil && v.OverflowUint(u) {
			err = errRange
		}
		if err != nil {
			d.numberError(n, v.Type(), path, err)
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, ok := parseFloat(n)
		if ok && v.OverflowFloat(f) {
			ok = false
		}
		if !ok {
			d.wrongType(n, v.Type(), path)
			return
		}
		v.SetFloat(f)
	default:
		panic(fmt.Sprintf("config: cannot decode into %s at %s", v.Type(), path))
	}
}

// spend counts a node reached through an alias against the budget.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.aliasDepth == 0 {
		return true
	}
	d.budget--
	if d.budget == -1 {
		// Report where the expansion started, not where it ran out.
		d.errorf(d.outerAlias, path, "aliases expand to more than %d values; write the configuration out", maxAliasNodes)
	}
	return d.budget >= 0
}

// decodeAlias calls f with the node an alias refers to, refusing an
// alias that refers to a node containing itself.
func (d *decoder) decodeAlias(n *yaml.Node, path string, f func(*yaml.Node)) {
	target := n.Alias
	if target == nil {
		d.errorf(n, path, "alias *%s refers to an unknown anchor", n.Value)
		return
	}
	if d.expanding[target] {
		d.errorf(n, path, "alias *%s refers to a value that contains it", n.Value)
		return
	}
	d.expanding[target] = true
	if d.aliasDepth == 0 {
		d.outerAlias = n
	}
	d.aliasDepth++
	f(target)
	d.aliasDepth--
	delete(d.expanding, target)
}

func (d *decoder) wrongType(n *yaml.Node, t reflect.Type, path string) {
	d.errorf(n, path, "want %s, got %s", kindName(t), describe(n))
}

var errRange = errors.New("out of range")

func (d *decoder) numberError(n *yaml.Node, t reflect.Type, path string, err error) {
	if errors.Is(err, errRange) {
		d.errorf(n, path, "%s is out of range", quote(n.Value))
		return
	}
	d.wrongType(n, t, path)
}

// kindName says what a value of type t looks like in the file.
func kindName(t reflect.Type) string {
	if k, ok := reflect.Zero(t).Interface().(interface{ kind() string }); ok {
		return k.kind()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return kindName(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// describe says what n is, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return quote(n.Value)
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseInt parses an integer scalar: decimal (a leading zero does not
// make it octal), or 0x, 0o, 0b with underscores as YAML allows.
func parseInt(n *yaml.Node) (int64, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		if isDecimal(n) {
			return 0, errRange // too long to be an !!int
		}
		return 0, strconv.ErrSyntax
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		i, err = strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, errRange
	}
	return i, err
}

func parseUint(n *yaml.Node) (uint64, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		if isDecimal(n) {
			return 0, errRange
		}
		return 0, strconv.ErrSyntax
	}
	if strings.HasPrefix(n.Value, "-") {
		return 0, errRange
	}
	u, err := strconv.ParseUint(strings.TrimPrefix(n.Value, "+"), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		u, err = strconv.ParseUint(strings.ReplaceAll(strings.TrimPrefix(n.Value, "+"), "_", ""), 0, 64)
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, errRange
	}
	return u, err
}

// isDecimal reports whether n is a plain (unquoted, untagged) decimal
// integer, of any length.
func isDecimal(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style != 0 {
		return false
	}
	s := strings.TrimLeft(n.Value, "+-")
	return s != "" && len(n.Value)-len(s) <= 1 && strings.Trim(s, "0123456789") == ""
}

func parseFloat(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		if i, err := parseInt(n); err == nil {
			return float64(i), true
		}
		return 0, false
	case "!!float":
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// pair is one key of a mapping, after merge keys were applied.
type pair struct {
	key, val *yaml.Node
	name     string
}

// mappingPairs returns the keys of mapping n in order, then the keys
// merged in with <<. It reports duplicate and non-scalar keys.
func (d *decoder) mappingPairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := make(map[string]int)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k, path) {
			break
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		if k.Kind == yaml.AliasNode && k.Alias != nil && k.Alias.Kind == yaml.ScalarNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "want a string key, got %s", describe(k))
			continue
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			d.errorf(k, keyPath(path, name), "duplicate key (first on line %d)", first)
			continue
		}
		seen[name] = k.Line
		out = append(out, pair{k, val, name})
	}
	for _, m := range merges {
		d.merge(m, path, seen, &out)
	}
	return out
}

// merge adds the keys of the merge value m (a mapping, an alias of
// one, or a list of those) that are not in seen yet.
func (d *decoder) merge(m *yaml.Node, path string, seen map[string]int, out *[]pair) {
	switch m.Kind {
	case yaml.AliasNode:
		d.decodeAlias(m, path, func(target *yaml.Node) { d.merge(target, path, seen, out) })
	case yaml.MappingNode:
		if !d.spend(m, path) {
			return
		}
		for _, p := range d.mappingPairs(m, path) {
			if _, dup := seen[p.name]; !dup {
				seen[p.name] = p.key.Line
				*out = append(*out, p)
			}
		}
	case yaml.SequenceNode:
		for _, item := range m.Content {
			if item.Kind == yaml.SequenceNode {
				d.errorf(item, keyPath(path, "<<"), "want a mapping or an alias of one, got a list")
				continue
			}
			d.merge(item, path, seen, out)
		}
	default:
		d.errorf(m, keyPath(path, "<<"), "want a mapping or a list of mappings to merge, got %s", describe(m))
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, v.Type(), path)
		return
	}
	info := structInfoOf(v.Type())
	for _, p := range d.mappingPairs(n, path) {
		kp := keyPath(path, p.name)
		index, ok := info.byName[p.name]
		if !ok {
			if s := suggest(p.name, info.names); s != "" {
				d.errorf(p.key, kp, "unknown key (did you mean %q?)", s)
			} else {
				d.errorf(p.key, kp, "unknown key; known keys: %s", strings.Join(info.names, ", "))
			}
			continue
		}
		d.keys[kp] = pos{p.key.Line, p.key.Column}
		d.decode(p.val, v.FieldByIndex(index), kp)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, v.Type(), path)
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		panic(fmt.Sprintf("config: map keys must be strings at %s", path))
	}
	pairs := d.mappingPairs(n, path)
	m := reflect.MakeMapWithSize(t, len(pairs))
	for _, p := range pairs {
		elem := reflect.New(t.Elem()).Elem()
		kp := keyPath(path, p.name)
		d.keys[kp] = pos{p.key.Line, p.key.Column}
		d.decode(p.val, elem, kp)
		m.SetMapIndex(reflect.ValueOf(p.name).Convert(t.Key()), elem)
	}
	v.Set(m)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.wrongType(n, v.Type(), path)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
	}
	v.Set(s)
}

// keyPath appends key name to path. Names that would be ambiguous in a
// path are quoted.
func keyPath(path, name string) string {
	if !plainKey(name) {
		name = quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

func plainKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '.' || r == '[' || r == ']' || r == '"' || r == ':' || r >= 0x7F {
			return false
		}
	}
	return true
}

// structInfo lists the keys of a struct type.
type structInfo struct {
	names  []string         // in field order
	byName map[string][]int // key -> field index
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: make(map[string][]int)}
	var add func(t reflect.Type, prefix []int)
	add = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("yaml")
			if !ok || tag == "-" || !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			index := append(append([]int(nil), prefix...), i)
			if opts == "inline" {
				if f.Type.Kind() != reflect.Struct {
					panic("config: ,inline needs a struct field: " + t.String() + "." + f.Name)
				}
				add(f.Type, index)
				continue
			}
			if name == "" {
				panic("config: field without a key name: " + t.String() + "." + f.Name)
			}
			if _, dup := info.byName[name]; dup {
				panic("config: duplicate key " + name + " in " + t.String())
			}
			info.names = append(info.names, name)
			info.byName[name] = index
		}
	}
	add(t, nil)
	v, _ := structInfos.LoadOrStore(t, info)
	return v.(*structInfo)
}

// suggest returns the candidate that name was probably meant to be, or
// "" if none is close.
func suggest(name string, candidates []string) string {
	n := normalizeKey(name)
	best, bestDist := "", math.MaxInt
	var prefixed []string
	for _, c := range candidates {
		nc := normalizeKey(c)
		if nc == n {
			return c
		}
		if len(n) <= 2*len(nc)+3 {
			limit := max(1, len(nc)/3)
			if dist := levenshtein(n, nc); dist <= limit && dist < bestDist {
				best, bestDist = c, dist
			}
		}
		if len(n) >= 3 && (strings.HasPrefix(nc, n) || strings.HasPrefix(n, nc)) {
			prefixed = append(prefixed, c)
		}
	}
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	return best
}

var keySeparators = strings.NewReplacer("_", "", "-", "", " ", "")

func normalizeKey(s string) string {
	return strings.ToLower(keySeparators.Replace(s))
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

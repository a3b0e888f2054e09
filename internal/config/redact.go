package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// Redacted returns c as plain maps, lists and scalars keyed by the YAML
// names, ready for encoding/json, with every secret (passwords,
// connection strings, sink headers) replaced by "[hidden]" and URLs
// (fields tagged redact:"url") without their password and query values. Sizes and
// durations are their text ("256MiB", "10s").
func (c *Config) Redacted() any {
	return redact(reflect.ValueOf(*c))
}

func redact(v reflect.Value) any {
	if v.Type() == reflect.TypeFor[Secret]() {
		return Secret(v.String()).String()
	}
	switch v.Type() {
	case reflect.TypeFor[Size](), reflect.TypeFor[Duration]():
		return v.Interface().(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return redact(v.Elem())
	case reflect.Struct:
		m := make(map[string]any)
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if f.Tag.Get("redact") == "url" {
				m[name] = RedactURL(v.Field(i).String())
				continue
			}
			m[name] = redact(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = redact(v.Index(i))
		}
		return out
	case reflect.Map:
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			m[fmt.Sprint(it.Key().Interface())] = redact(it.Value())
		}
		return m
	default:
		return v.Interface()
	}
}

// RedactURL returns u with its password and every query value hidden
// (either may hold a token), or "(invalid url)".
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid url)"
	}
	if q := p.Query(); len(q) > 0 {
		for k := range q {
			q[k] = []string{"hidden"}
		}
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

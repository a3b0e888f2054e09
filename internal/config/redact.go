package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Redacted returns c as plain maps, lists and scalars keyed by the YAML
// names, ready for encoding/json, with every secret (passwords,
// connection strings, sink headers) replaced by "[hidden]". Sizes and
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

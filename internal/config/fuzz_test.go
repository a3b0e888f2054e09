package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse checks that no input makes Parse panic, that every refusal
// is made of *Error values that name the file and a line inside it, and
// that whatever Parse accepts passes Validate and survives being
// written out with yaml.Marshal and parsed again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range append(files, "../../edgemq.example.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(defaultYAML)

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error")
			}
			errs := Errors(err)
			if len(errs) == 0 || len(errs) > maxErrors+1 {
				t.Fatalf("Parse error holds %d *Error values: %v", len(errs), err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
					t.Fatalf("bad error %#v in %v", e, err)
				}
			}
			return
		}
		if c == nil {
			t.Fatalf("Parse returned neither a config nor an error")
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate refuses: %v", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		back, err := Parse("marshalled.yaml", out)
		if err != nil {
			t.Fatalf("Parse(yaml.Marshal(c)) = %v\n%s", err, out)
		}
		if !reflect.DeepEqual(plain(back), plain(c)) {
			t.Fatalf("round trip:\ngot  %+v\nwant %+v", plain(back), plain(c))
		}
	})
}

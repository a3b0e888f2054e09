package packet

import (
	"bytes"
	"fmt"
	"testing"
)

var payloadSizes = []struct {
	name string
	size int
}{{"0B", 0}, {"256B", 256}, {"4K", 4096}}

func benchPublish(version byte, size int) *Publish {
	p := &Publish{QoS: 1, PacketID: 42, Topic: "site/building-1/floor-2/temperature", Payload: bytes.Repeat([]byte{'x'}, size)}
	if version == Version5 {
		p.Properties = pset(Properties{MessageExpiry: 3600, ContentType: "application/json",
			User: []UserProperty{{"origin", "edge-7"}}}, PropMessageExpiry, PropContentType)
	}
	return p
}

func BenchmarkDecodePublish(b *testing.B) {
	for _, v := range []struct {
		name    string
		version byte
	}{{"v3", Version311}, {"v5", Version5}} {
		for _, s := range payloadSizes {
			b.Run(v.name+"/"+s.name, func(b *testing.B) {
				raw, err := Append(nil, benchPublish(v.version, s.size), v.version)
				if err != nil {
					b.Fatal(err)
				}
				fh, n, err := DecodeFixedHeader(raw)
				if err != nil {
					b.Fatal(err)
				}
				body := raw[n:]
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Decode(fh, body, v.version); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkReadPublish(b *testing.B) {
	for _, s := range payloadSizes {
		b.Run("v5/"+s.name, func(b *testing.B) {
			raw, err := Append(nil, benchPublish(Version5, s.size), Version5)
			if err != nil {
				b.Fatal(err)
			}
			r := bytes.NewReader(raw)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(raw)
				if _, err := Read(r, 0, Version5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendPublish(b *testing.B) {
	for _, v := range []struct {
		name    string
		version byte
	}{{"v3", Version311}, {"v5", Version5}} {
		for _, s := range payloadSizes {
			b.Run(v.name+"/"+s.name, func(b *testing.B) {
				p := benchPublish(v.version, s.size)
				buf := make([]byte, 0, Size(p, v.version))
				b.SetBytes(int64(cap(buf)))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if buf, err = Append(buf[:0], p, v.version); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkSizePublish(b *testing.B) {
	p := benchPublish(Version5, 256)
	b.ReportAllocs()
	for b.Loop() {
		if Size(p, Version5) < 0 {
			b.Fatal("Size failed")
		}
	}
}

func BenchmarkDecodeConnect(b *testing.B) {
	for _, name := range []string{"v311/CONNECT/full", "v5/CONNECT/minimal", "v5/CONNECT/all-properties"} {
		b.Run(name, func(b *testing.B) {
			raw := findRaw(b, name)
			fh, n, err := DecodeFixedHeader(raw)
			if err != nil {
				b.Fatal(err)
			}
			body := raw[n:]
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(fh, body, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendTable encodes every canonical table entry, a rough measure
// across packet types.
func BenchmarkAppendTable(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		for _, tc := range table {
			if tc.pkt == nil {
				continue
			}
			var err error
			if buf, err = Append(buf[:0], tc.pkt, tc.version); err != nil {
				b.Fatal(fmt.Errorf("%s: %w", tc.name, err))
			}
		}
	}
}

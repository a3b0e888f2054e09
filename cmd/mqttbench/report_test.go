package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Summary
	}{
		{nil, Summary{}},
		{[]float64{5}, Summary{5, 5, 5, 1}},
		{[]float64{3, 1, 2}, Summary{2, 1, 3, 3}},
		{[]float64{4, 1, 3, 2}, Summary{2.5, 1, 4, 4}},
	} {
		if got := Summarize(tc.in); got != tc.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 {
		t.Error("Summarize modified its input")
	}
}

func TestPercentile(t *testing.T) {
	var v []float64
	for i := 1; i <= 1000; i++ {
		v = append(v, float64(i))
	}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {50, 500}, {99, 990}, {99.9, 999}, {100, 1000}, {0.05, 1}, {0.15, 2},
	} {
		if got := percentile(v, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
	if got := percentile([]float64{7}, 99.9); got != 7 {
		t.Errorf("single = %v", got)
	}
	if got := percentile([]float64{1, 2, 3, 4}, 50); got != 2 {
		t.Errorf("p50 of 4 = %v, want 2 (nearest rank)", got)
	}
}

func TestFmtNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {12345.6, "12346"}, {250.4, "250"}, {42, "42"}, {12.34, "12.3"},
		{1.234, "1.23"}, {0.01234, "0.012"}, {-3.5, "-3.50"},
	} {
		if got := fmtNum(tc.v); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFmtSummaryAndRatio(t *testing.T) {
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{2.5, 1, 4, 3}, "2.50 (1.00–4.00)"},
		{Summary{1234.5, 1000.25, 2000, 3}, "1234 (1000–2000)"},
		{Summary{2, 1.5, 4, 3}, "2.00 (1.50–4.00)"},
		{Summary{6, 5, 7, 3}, "6 (5–7)"},
		{Summary{0.0123, 0.01, 0.02, 2}, "0.012 (0.010–0.020)"},
	} {
		if got := fmtSummary(tc.s); got != tc.want {
			t.Errorf("fmtSummary(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if got := fmtSummary(Summary{}); got != "-" {
		t.Errorf("got %q", got)
	}
	if got := fmtSummary(Summary{7, 7, 7, 1}); got != "7" {
		t.Errorf("got %q", got)
	}
	a, b := Summary{Median: 3, N: 1}, Summary{Median: 4, N: 1}
	if got := fmtRatio(a, b); got != "0.75" {
		t.Errorf("got %q", got)
	}
	if got := fmtRatio(a, Summary{N: 1}); got != "inf" {
		t.Errorf("got %q", got)
	}
	if got := fmtRatio(Summary{N: 1}, Summary{N: 1}); got != "-" {
		t.Errorf("got %q", got)
	}
	if got := fmtRatio(a, Summary{}); got != "-" {
		t.Errorf("got %q", got)
	}
}

func TestFormatTable(t *testing.T) {
	got := FormatTable([]string{"metric", "a median (min–max)", "r"},
		[][]string{{"throughput (msg/s)", "10 (9–11)", "1.00"}, {"x", "µ", ""}})
	want := "" +
		"metric             | a median (min–max) | r\n" +
		"-------------------+--------------------+-----\n" +
		"throughput (msg/s) | 10 (9–11)          | 1.00\n" +
		"x                  | µ                  | \n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func runOf(target string, round int, errText string, kv ...any) Run {
	r := Run{Load: "fanin1", Target: target, Round: round, Error: errText}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Metrics = append(r.Metrics, Metric{Name: kv[i].(string), Unit: "u", Value: kv[i+1].(float64)})
	}
	return r
}

func TestCompareTable(t *testing.T) {
	l := Load{Name: "fanin1", Targets: []Goal{goalRatioAtMost(mCPUPerMsg, 0.8), goalAtLeast(mThroughput), goalZero(mLost)}}
	runs := []Run{
		runOf("edgemq", 1, "", mThroughput, 100.0, mCPUPerMsg, 2.0, mLost, 0.0),
		runOf("mosquitto", 1, "", mThroughput, 90.0, mCPUPerMsg, 3.0, mLost, 5.0),
		runOf("edgemq", 2, "", mThroughput, 110.0, mCPUPerMsg, 2.2, mLost, 0.0),
		runOf("mosquitto", 2, "", mThroughput, 80.0, mCPUPerMsg, 3.2, mLost, 7.0),
		runOf("edgemq", 3, "connection refused"),
		runOf("mosquitto", 3, "", mThroughput, 85.0, mCPUPerMsg, 3.1, mLost, 6.0),
	}
	got := CompareTable(l, "edgemq", "mosquitto", runs)
	want := "" +
		"metric             | edgemq median (min–max) | mosquitto median (min–max) | ratio edgemq/mosquitto\n" +
		"-------------------+-------------------------+----------------------------+-----------------------\n" +
		"throughput (u)     | 105 (100–110)           | 85 (80–90)                 | 1.24\n" +
		"broker CPU/msg (u) | 2.10 (2.00–2.20)        | 3.10 (3.00–3.20)           | 0.68\n" +
		"lost (u)           | 0 (0–0)                 | 6 (5–7)                    | 0.00\n" +
		"edgemq: 1 of 3 runs failed, first: connection refused\n" +
		"targets for edgemq: broker CPU/msg <= 0.8x mosquitto: MET (0.68x); throughput >= mosquitto: MET (1.24x); zero lost: MET (max 0)\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestGoalEvaluate(t *testing.T) {
	s := func(med, mx float64) map[string]Summary {
		return map[string]Summary{"m": {Median: med, Min: med, Max: mx, N: 2}}
	}
	for _, tc := range []struct {
		g      Goal
		a, b   map[string]Summary
		status string
	}{
		{goalRatioAtMost("m", 0.8), s(8, 8), s(10, 10), "MET (0.80x)"},
		{goalRatioAtMost("m", 0.8), s(9, 9), s(10, 10), "NOT MET (0.90x)"},
		{goalRatioAtLeast("m", 2), s(20, 20), s(10, 10), "MET (2.00x)"},
		{goalRatioAtLeast("m", 2), s(19, 19), s(10, 10), "NOT MET (1.90x)"},
		{goalAtLeast("m"), s(10, 10), s(10, 10), "MET (1.00x)"},
		{goalAtLeast("m"), s(9, 9), s(10, 10), "NOT MET (0.90x)"},
		{goalAtMost("m"), s(11, 11), s(10, 10), "NOT MET (1.10x)"},
		{goalZero("m"), s(0, 1), nil, "NOT MET (max 1)"},
		{goalZero("m"), s(0, 0), nil, "MET (max 0)"},
		{goalBelow("m", 4096), s(700, 900), nil, "MET (700)"},
		{goalBelow("m", 4096), s(5000, 5000), nil, "NOT MET (5000)"},
		{goalAtLeast("m"), nil, s(1, 1), "n/a"},
		{goalAtLeast("m"), s(1, 1), s(0, 0), "MET (ref 0)"},
	} {
		got := tc.g.Evaluate("A", "B", tc.a, tc.b)
		if !strings.HasSuffix(got, ": "+tc.status) {
			t.Errorf("%+v: got %q, want status %q", tc.g, got, tc.status)
		}
	}
}

func TestSingleTable(t *testing.T) {
	runs := []Run{runOf("127.0.0.1:1", 1, "", "a", 1.0), runOf("127.0.0.1:1", 2, "", "a", 3.0)}
	got := SingleTable(runs)
	if !strings.Contains(got, "a (u)  | 2 (1–3)") {
		t.Errorf("got:\n%s", got)
	}
}

func TestNoiseWarning(t *testing.T) {
	quiet := map[string]Summary{mOtherUtil: {Median: 5, Min: 1, Max: 20, N: 3}}
	busy := map[string]Summary{mOtherUtil: {Median: 5, Min: 1, Max: 64.4, N: 3}}
	if got := noiseWarning(quiet, nil); got != "" {
		t.Errorf("quiet: %q", got)
	}
	if got := noiseWarning(quiet, busy); !strings.Contains(got, "up to 64% of a core") {
		t.Errorf("busy: %q", got)
	}
}

func TestWriteJSON(t *testing.T) {
	path := t.TempDir() + "/r.json"
	rep := JSONReport{Mode: "compare", Rounds: 1, Targets: []Target{{Name: "mosquitto", Kind: KindMosquitto, Binary: "/x"}},
		Runs: []Run{runOf("mosquitto", 1, "", mThroughput, 12.5)}}
	if err := WriteJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if k := back["targets"].([]any)[0].(map[string]any)["kind"]; k != "mosquitto" {
		t.Errorf("kind = %v", k)
	}
	m := back["runs"].([]any)[0].(map[string]any)["metrics"].([]any)[0].(map[string]any)
	if m["name"] != mThroughput || m["value"] != 12.5 {
		t.Errorf("metric = %v", m)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Summary describes the values of one metric over several rounds.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns median, min and max of vals (N is 0 for no values).
// The median of an even count is the mean of the two middle values.
func Summarize(vals []float64) Summary {
	if len(vals) == 0 {
		return Summary{}
	}
	s := sortedCopy(vals)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// percentile returns the p-th percentile (0..100) of ascending sorted
// values using the nearest-rank method (the smallest value such that at
// least p% of values are <= it); 0 for no values.
func percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(n)*p/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// sortedCopy returns vals sorted ascending without modifying vals.
func sortedCopy(vals []float64) []float64 {
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	return s
}

// Run is the raw record of one load run against one broker.
type Run struct {
	Load    string    `json:"load"`
	Target  string    `json:"target"`
	Kind    string    `json:"broker_kind"`
	Binary  string    `json:"binary,omitempty"`
	Round   int       `json:"round"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Error   string    `json:"error,omitempty"`
	Metrics []Metric  `json:"metrics,omitempty"`
}

// JSONReport is what --json writes: the settings and every raw run.
type JSONReport struct {
	Started  time.Time `json:"started"`
	Args     []string  `json:"args"`
	Mode     string    `json:"mode"`
	Rounds   int       `json:"rounds"`
	Duration string    `json:"duration"`
	Note     string    `json:"note,omitempty"`
	Targets  []Target  `json:"targets"`
	Runs     []Run     `json:"runs"`
}

// WriteJSON writes r to path, indented.
func WriteJSON(path string, r JSONReport) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// decimals returns how many decimals suit a value of v's size; integral
// values get none.
func decimals(v float64) int {
	a := math.Abs(v)
	switch {
	case v == math.Trunc(v) || a >= 100:
		return 0
	case a >= 10:
		return 1
	case a >= 1:
		return 2
	default:
		return 3
	}
}

// fmtNum formats a measurement with a precision that suits its size.
func fmtNum(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprint(v)
	}
	return strconv.FormatFloat(v, 'f', decimals(v), 64)
}

// fmtSummary renders "median (min–max)", all three with the precision
// that suits the median (none if all are integral); "-" when there is no
// value.
func fmtSummary(s Summary) string {
	switch s.N {
	case 0:
		return "-"
	case 1:
		return fmtNum(s.Median)
	}
	d := decimals(s.Median)
	if s.Median == math.Trunc(s.Median) && (s.Min != math.Trunc(s.Min) || s.Max != math.Trunc(s.Max)) {
		d = max(decimals(s.Min), decimals(s.Max), 1)
		if math.Abs(s.Median) >= 100 {
			d = 0
		}
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', d, 64) }
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// fmtRatio renders a/b of two medians.
func fmtRatio(a, b Summary) string {
	if a.N == 0 || b.N == 0 {
		return "-"
	}
	if b.Median == 0 {
		if a.Median == 0 {
			return "-"
		}
		return "inf"
	}
	return fmt.Sprintf("%.2f", a.Median/b.Median)
}

// FormatTable lays out rows under header in columns separated by " | ",
// padded by rune count, with a rule under the header.
func FormatTable(header []string, rows [][]string) string {
	w := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i := range w {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c)
			if i < len(w)-1 {
				b.WriteString(strings.Repeat(" ", w[i]-utf8.RuneCountInString(c)))
			}
		}
		b.WriteString("\n")
	}
	line(header)
	for i := range w {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", w[i]))
	}
	b.WriteString("\n")
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// metricOrder returns the metric names of runs in order of first
// appearance, with their units.
func metricOrder(runs []Run) (names []string, units map[string]string) {
	units = map[string]string{}
	for _, r := range runs {
		for _, m := range r.Metrics {
			if _, ok := units[m.Name]; !ok {
				units[m.Name] = m.Unit
				names = append(names, m.Name)
			}
		}
	}
	return names, units
}

// summaries summarises every metric of the successful runs of target.
func summaries(runs []Run, target string) map[string]Summary {
	vals := map[string][]float64{}
	for _, r := range runs {
		if r.Target != target || r.Error != "" {
			continue
		}
		for _, m := range r.Metrics {
			vals[m.Name] = append(vals[m.Name], m.Value)
		}
	}
	out := map[string]Summary{}
	for k, v := range vals {
		out[k] = Summarize(v)
	}
	return out
}

// failureNotes describes failed runs of target, if any.
func failureNotes(runs []Run, target string) string {
	total, failed := 0, 0
	first := ""
	for _, r := range runs {
		if r.Target != target {
			continue
		}
		total++
		if r.Error != "" {
			failed++
			if first == "" {
				first = r.Error
			}
		}
	}
	if failed == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d of %d runs failed, first: %s\n", target, failed, total, first)
}

// noisyOther is the CPU use of other processes (% of one core) beyond
// which a measurement is flagged as disturbed.
const noisyOther = 20

// noiseWarning warns when other processes used much CPU during the runs.
func noiseWarning(sums ...map[string]Summary) string {
	worst := 0.0
	for _, s := range sums {
		if v, ok := s[mOtherUtil]; ok && v.N > 0 {
			worst = max(worst, v.Max)
		}
	}
	if worst <= noisyOther {
		return ""
	}
	return fmt.Sprintf("warning: other processes used up to %.0f%% of a core during these runs; the figures are disturbed\n", worst)
}

// CompareTable renders the comparison of load between targets a and b
// (a is the candidate, b the reference), with a line of goals.
func CompareTable(l Load, a, b string, runs []Run) string {
	names, units := metricOrder(runs)
	sa, sb := summaries(runs, a), summaries(runs, b)
	header := []string{"metric", a + " median (min–max)", b + " median (min–max)", "ratio " + a + "/" + b}
	var rows [][]string
	for _, n := range names {
		label := n
		if u := units[n]; u != "" {
			label += " (" + u + ")"
		}
		rows = append(rows, []string{label, fmtSummary(sa[n]), fmtSummary(sb[n]), fmtRatio(sa[n], sb[n])})
	}
	var out strings.Builder
	out.WriteString(FormatTable(header, rows))
	out.WriteString(failureNotes(runs, a))
	out.WriteString(failureNotes(runs, b))
	out.WriteString(noiseWarning(sa, sb))
	var parts []string
	for _, g := range l.Targets {
		parts = append(parts, g.Evaluate(a, b, sa, sb))
	}
	if len(parts) > 0 {
		fmt.Fprintf(&out, "targets for %s: %s\n", a, strings.Join(parts, "; "))
	}
	return out.String()
}

// SingleTable renders the runs of one load against one broker.
func SingleTable(runs []Run) string {
	names, units := metricOrder(runs)
	var target string
	if len(runs) > 0 {
		target = runs[0].Target
	}
	s := summaries(runs, target)
	var rows [][]string
	for _, n := range names {
		label := n
		if u := units[n]; u != "" {
			label += " (" + u + ")"
		}
		rows = append(rows, []string{label, fmtSummary(s[n])})
	}
	return FormatTable([]string{"metric", "median (min–max)"}, rows) + failureNotes(runs, target)
}

// goalKind is how a Goal compares its metric.
type goalKind int

const (
	goalKindRatioAtMost  goalKind = iota // candidate <= Limit x reference
	goalKindAtLeast                      // candidate >= reference
	goalKindAtMost                       // candidate <= reference
	goalKindZero                         // candidate is 0 in every round
	goalKindBelow                        // candidate median < Limit
	goalKindRatioAtLeast                 // candidate >= Limit x reference
)

// Goal is a target the candidate (edgemq) must meet against the reference
// (Mosquitto) or in absolute terms. All comparisons use medians except
// goalKindZero, which requires the maximum over all rounds to be 0.
type Goal struct {
	Metric string
	Kind   goalKind
	Limit  float64
}

func goalRatioAtMost(m string, f float64) Goal {
	return Goal{Metric: m, Kind: goalKindRatioAtMost, Limit: f}
}
func goalRatioAtLeast(m string, f float64) Goal {
	return Goal{Metric: m, Kind: goalKindRatioAtLeast, Limit: f}
}
func goalAtLeast(m string) Goal { return Goal{Metric: m, Kind: goalKindAtLeast} }
func goalAtMost(m string) Goal  { return Goal{Metric: m, Kind: goalKindAtMost} }
func goalZero(m string) Goal    { return Goal{Metric: m, Kind: goalKindZero} }
func goalBelow(m string, limit float64) Goal {
	return Goal{Metric: m, Kind: goalKindBelow, Limit: limit}
}

// Evaluate renders "description: MET (detail)", NOT MET or n/a when a
// value is missing.
func (g Goal) Evaluate(a, b string, sa, sb map[string]Summary) string {
	va, okA := sa[g.Metric]
	vb, okB := sb[g.Metric]
	okA = okA && va.N > 0
	okB = okB && vb.N > 0
	var desc, detail string
	met, known := false, false
	ratio := func() string {
		if vb.Median == 0 {
			return "ref 0"
		}
		return fmt.Sprintf("%.2fx", va.Median/vb.Median)
	}
	switch g.Kind {
	case goalKindRatioAtMost:
		desc = fmt.Sprintf("%s <= %gx %s", g.Metric, g.Limit, b)
		if known = okA && okB; known {
			met, detail = va.Median <= g.Limit*vb.Median, ratio()
		}
	case goalKindRatioAtLeast:
		desc = fmt.Sprintf("%s >= %gx %s", g.Metric, g.Limit, b)
		if known = okA && okB; known {
			met, detail = va.Median >= g.Limit*vb.Median, ratio()
		}
	case goalKindAtLeast:
		desc = fmt.Sprintf("%s >= %s", g.Metric, b)
		if known = okA && okB; known {
			met, detail = va.Median >= vb.Median, ratio()
		}
	case goalKindAtMost:
		desc = fmt.Sprintf("%s <= %s", g.Metric, b)
		if known = okA && okB; known {
			met, detail = va.Median <= vb.Median, ratio()
		}
	case goalKindZero:
		desc = fmt.Sprintf("zero %s", g.Metric)
		if known = okA; known {
			met, detail = va.Max == 0, "max "+fmtNum(va.Max)
		}
	case goalKindBelow:
		desc = fmt.Sprintf("%s < %s", g.Metric, fmtNum(g.Limit))
		if known = okA; known {
			met, detail = va.Median < g.Limit, fmtNum(va.Median)
		}
	}
	switch {
	case !known:
		return desc + ": n/a"
	case met:
		return desc + ": MET (" + detail + ")"
	default:
		return desc + ": NOT MET (" + detail + ")"
	}
}

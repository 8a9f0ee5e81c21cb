package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/safeyaml"
	"github.com/segtool/segtool/models"
)

// Gate is a set of regression rules (configs/regression.yaml).
type Gate struct {
	// Rules are floors, ceilings and ratio limits: "VALUE OP NUMBER".
	Rules []Rule
	// MaxDrop are the most each value may get worse against the baseline,
	// in its own unit.
	MaxDrop []Drop
	// TimingNoise makes latency-ratio rules noise-aware (see Evaluate).
	TimingNoise bool
	// Strict turns baseline warnings into errors.
	Strict bool
}

// Rule is VALUE OP LIMIT, OP one of >=, >, <=, <.
type Rule struct {
	Value  string  `json:"value"`
	Op     string  `json:"op"`
	Limit  float64 `json:"limit"`
	Source string  `json:"source"` // file:line, or the flag
}

func (r Rule) String() string { return fmt.Sprintf("%s %s %s", r.Value, r.Op, fmtNum(r.Limit)) }

// Drop is a max_drop entry.
type Drop struct {
	Value  string  `json:"value"`
	Max    float64 `json:"max"`
	Source string  `json:"source"`
}

func (d Drop) String() string { return fmt.Sprintf("max_drop %s %s", d.Value, fmtNum(d.Max)) }

// NewGate returns an empty gate with noise-aware timing on.
func NewGate() *Gate { return &Gate{TimingNoise: true} }

// ParseRule reads "VALUE OP NUMBER".
func ParseRule(s, source string) (Rule, error) {
	f := strings.Fields(s)
	if len(f) == 1 { // written without spaces: dice>=0.95
		for _, op := range []string{">=", "<=", ">", "<"} {
			if a, b, ok := strings.Cut(s, op); ok {
				f = []string{strings.TrimSpace(a), op, strings.TrimSpace(b)}
				break
			}
		}
	}
	if len(f) != 3 {
		return Rule{}, fmt.Errorf("%s: rule %q: want VALUE OP NUMBER, e.g. \"dice >= 0.95\" or \"p50_latency_ratio <= 1.10\"", source, s)
	}
	switch f[1] {
	case ">=", ">", "<=", "<":
	default:
		return Rule{}, fmt.Errorf("%s: rule %q: operator %q: want >=, >, <= or <", source, s, f[1])
	}
	v, err := strconv.ParseFloat(f[2], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Rule{}, fmt.Errorf("%s: rule %q: %q is not a number", source, s, f[2])
	}
	return Rule{Value: f[0], Op: f[1], Limit: v, Source: source}, nil
}

// ParseDrop reads "VALUE=NUMBER" (the --max-drop flag).
func ParseDrop(s, source string) (Drop, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return Drop{}, fmt.Errorf("%s: %q: want VALUE=NUMBER, e.g. dice=0.005", source, s)
	}
	return makeDrop(strings.TrimSpace(k), strings.TrimSpace(v), source)
}

func makeDrop(k, v, source string) (Drop, error) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return Drop{}, fmt.Errorf("%s: max_drop %s: %q: want a number >= 0", source, k, v)
	}
	if k == "" {
		return Drop{}, fmt.Errorf("%s: max_drop: empty value name", source)
	}
	return Drop{Value: k, Max: x, Source: source}, nil
}

// gateFile is the YAML form.
type gateFile struct {
	Rules       []yaml.Node `yaml:"rules"`
	MaxDrop     yaml.Node   `yaml:"max_drop"`
	TimingNoise *bool       `yaml:"timing_noise"`
	Strict      bool        `yaml:"strict"`
}

// LoadGate reads a gate file. Unknown keys, bad rules and bad numbers are
// errors naming the line.
func LoadGate(path string) (*Gate, error) {
	b, err := safeyaml.ReadFile(path)
	if errors.Is(err, safeyaml.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return nil, err
	}
	return ParseGate(path, b)
}

// ParseGate parses a gate document; path is used in error messages.
// Anchors and aliases are refused (with their line), and so is a document
// over safeyaml.MaxBytes.
func ParseGate(path string, b []byte) (*Gate, error) {
	if _, err := safeyaml.Parse(b); err != nil {
		var le *safeyaml.LineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %w", path, le.Line, le.Err)
		}
		if errors.Is(err, safeyaml.ErrTooLarge) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// A syntax error: the decoder below words it.
	}
	var f gateFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty gate file", path)
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(msg, "in type report.gateFile", "(gate keys: rules, max_drop, timing_noise, strict)")
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	g := NewGate()
	if f.TimingNoise != nil {
		g.TimingNoise = *f.TimingNoise
	}
	g.Strict = f.Strict
	for _, n := range f.Rules {
		src := fmt.Sprintf("%s:%d", path, n.Line)
		if n.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: a rule is one string, e.g. - dice >= 0.95", src)
		}
		r, err := ParseRule(n.Value, src)
		if err != nil {
			return nil, err
		}
		g.Rules = append(g.Rules, r)
	}
	switch f.MaxDrop.Kind {
	case 0:
	case yaml.MappingNode:
		c := f.MaxDrop.Content
		for i := 0; i+1 < len(c); i += 2 {
			src := fmt.Sprintf("%s:%d", path, c[i].Line)
			if slices.ContainsFunc(g.MaxDrop, func(d Drop) bool { return d.Value == c[i].Value }) {
				return nil, fmt.Errorf("%s: max_drop %s given twice", src, c[i].Value)
			}
			d, err := makeDrop(c[i].Value, c[i+1].Value, src)
			if err != nil {
				return nil, err
			}
			g.MaxDrop = append(g.MaxDrop, d)
		}
	default:
		return nil, fmt.Errorf("%s:%d: max_drop is a map of value: number, e.g. {dice: 0.005}", path, f.MaxDrop.Line)
	}
	return g, nil
}

// NeedsBaseline reports whether a rule compares with a baseline: a ratio
// or a max_drop.
func (g *Gate) NeedsBaseline() bool {
	if g == nil {
		return false
	}
	for _, r := range g.Rules {
		if IsRatio(r.Value) {
			return true
		}
	}
	return len(g.MaxDrop) > 0
}

// Empty reports whether the gate has no rules.
func (g *Gate) Empty() bool { return g == nil || len(g.Rules)+len(g.MaxDrop) == 0 }

// Check statuses and verdicts.
const (
	Pass  = "pass"
	Fail  = "fail"
	Error = "error" // bad input: a missing or unknown value, no baseline, a warning under Strict
)

// Check is one rule applied to one run.
type Check struct {
	Rule     string   `json:"rule"`
	Source   string   `json:"source"`
	Value    string   `json:"value"`
	Actual   *float64 `json:"actual,omitempty"`
	Baseline *float64 `json:"baseline,omitempty"`
	Limit    float64  `json:"limit"`
	Status   string   `json:"status"`
	// Message says what was compared, with the numbers.
	Message string `json:"message"`
	// Noise is the interval a noise-aware timing rule judged, when it had
	// one.
	Noise *Interval `json:"noise,omitempty"`
}

// Interval is the plausible range of a latency ratio given the runs'
// per-image spread.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Verdict is a gate's judgement of one run.
type Verdict struct {
	Run    string  `json:"run"`
	Status string  `json:"status"`
	Checks []Check `json:"checks"`
	// Warnings are baseline incompatibilities; Refused is set when strict
	// made them an error.
	Warnings []string `json:"warnings,omitempty"`
	Refused  bool     `json:"refused,omitempty"`
}

// Failed returns the checks with status st.
func (v *Verdict) Failed(st string) []Check {
	var out []Check
	for _, c := range v.Checks {
		if c.Status == st {
			out = append(out, c)
		}
	}
	return out
}

// ExitCode maps verdicts to segtool's gate exit codes: 2 when any verdict
// is an error (bad input), else 1 when any failed, else 0.
func ExitCode(vs []Verdict) int {
	code := 0
	for _, v := range vs {
		switch v.Status {
		case Error:
			return 2
		case Fail:
			code = 1
		}
	}
	return code
}

// eps is the slack of a comparison: values within 1e-9 (relative to the
// limit, at least absolute 1e-9) of the limit count as equal to it, so that
// float rounding (0.95 - 0.945 = 0.0050000000000000044) does not decide.
func eps(limit float64) float64 { return 1e-9 * math.Max(1, math.Abs(limit)) }

func holds(v float64, op string, limit float64) bool {
	e := eps(limit)
	switch op {
	case ">=":
		return v >= limit-e
	case ">":
		return v > limit+e
	case "<=":
		return v <= limit+e
	default: // "<"
		return v < limit-e
	}
}

// Evaluate applies the gate to run, against base (nil for none).
//
// Floors and ceilings compare the run's value with the limit. max_drop
// compares it with the baseline's: the drop is baseline - run for values
// where higher is better, run - baseline otherwise, and fails when it
// exceeds the allowance. Ratio rules divide the run's figure by the
// baseline's.
//
// Noise-aware timing (TimingNoise, on by default): a latency-ratio rule
// (p50_latency_ratio <= 1.10) judges the ratio of the two runs' reported
// figures, but when both runs carry at least 5 per-image times, a breach
// counts only if it lies beyond the runs' measured spread. Each run's
// per-image times give a distribution-free 95% interval for the figure
// (order statistics for a percentile, Conover 1999 §3.2; mean ± 1.96 s/√n
// for the mean), and the ratio's plausible range is [lo_run/hi_base,
// hi_run/lo_base]. "ratio <= L" fails only when even lo_run/hi_base > L,
// "ratio >= L" only when even hi_run/lo_base < L. The per-image spread
// mixes timer noise with real differences between images (sizes, batch
// shares), so the rule errs towards passing a small slowdown on a noisy
// machine, never towards failing an unchanged model.
//
// A baseline measured differently (metric definitions or threshold, the
// dataset manifest, the splits, the model spec) is a warning; with
// Strict it makes the verdict an error. A missing or unknown value is an
// error.
func (g *Gate) Evaluate(run, base *Run) Verdict {
	v := Verdict{Run: run.Name, Status: Pass}
	if base != nil {
		v.Warnings = Incompatible(run, base)
	}
	for _, r := range g.Rules {
		v.Checks = append(v.Checks, g.checkRule(r, run, base))
	}
	for _, d := range g.MaxDrop {
		v.Checks = append(v.Checks, checkDrop(d, run, base))
	}
	for _, c := range v.Checks {
		switch {
		case c.Status == Error:
			v.Status = Error
		case c.Status == Fail && v.Status == Pass:
			v.Status = Fail
		}
	}
	if g.Strict && len(v.Warnings) > 0 {
		v.Status, v.Refused = Error, true
	}
	return v
}

func errCheck(c Check, err error) Check {
	c.Status, c.Message = Error, err.Error()
	return c
}

func (g *Gate) checkRule(r Rule, run, base *Run) Check {
	c := Check{Rule: r.String(), Source: r.Source, Value: r.Value, Limit: r.Limit}
	var val Value
	var err error
	if IsRatio(r.Value) {
		if base == nil {
			return errCheck(c, fmt.Errorf("%s: %s compares with a baseline, and none was given", r.Source, r.Value))
		}
		val, err = Ratio(run, base, r.Value)
	} else {
		val, err = run.Value(r.Value)
	}
	if err != nil {
		return errCheck(c, fmt.Errorf("%s: %w", r.Source, err))
	}
	x := val.V
	c.Actual = &x
	if holds(x, r.Op, r.Limit) {
		c.Status = Pass
		c.Message = fmt.Sprintf("%s = %s, %s %s", r.Value, fmtNum(x), r.Op, fmtNum(r.Limit))
		return c
	}
	c.Status = Fail
	c.Message = fmt.Sprintf("%s = %s, not %s %s", r.Value, fmtNum(x), r.Op, fmtNum(r.Limit))
	if IsRatio(r.Value) && g.TimingNoise {
		if iv, ok := ratioInterval(run, base, r.Value); ok {
			c.Noise = &iv
			edge := iv.Lo // "<=": the fastest plausible ratio must breach too
			if r.Op == ">=" || r.Op == ">" {
				edge = iv.Hi
			}
			if holds(edge, r.Op, r.Limit) {
				c.Status = Pass
				c.Message += fmt.Sprintf(", but within the runs' measured spread (plausible ratio %s..%s): not counted", fmtNum(iv.Lo), fmtNum(iv.Hi))
			} else {
				c.Message += fmt.Sprintf(", beyond the runs' measured spread (plausible ratio %s..%s)", fmtNum(iv.Lo), fmtNum(iv.Hi))
			}
		}
	}
	return c
}

// ratioInterval is a latency ratio's plausible range from the two runs'
// per-image times; false when either run has fewer than minTimed.
func ratioInterval(run, base *Run, name string) (Interval, bool) {
	rv := ratioValues()[name]
	if rv.of == "images_per_s" {
		return Interval{}, false // one number per run: no spread
	}
	times := func(r *Run) []float64 {
		inf, e2e := r.Latencies()
		if rv.e2e {
			return e2e
		}
		return inf
	}
	a, b := sortedCopy(times(run)), sortedCopy(times(base))
	if len(a) < minTimed || len(b) < minTimed {
		return Interval{}, false
	}
	aLo, aHi := quantileCI(a, rv.quantile)
	bLo, bHi := quantileCI(b, rv.quantile)
	if bLo <= 0 || bHi <= 0 {
		return Interval{}, false
	}
	return Interval{Lo: aLo / bHi, Hi: aHi / bLo}, true
}

func checkDrop(d Drop, run, base *Run) Check {
	c := Check{Rule: d.String(), Source: d.Source, Value: d.Value, Limit: d.Max}
	if base == nil {
		return errCheck(c, fmt.Errorf("%s: max_drop %s compares with a baseline, and none was given", d.Source, d.Value))
	}
	if IsRatio(d.Value) {
		return errCheck(c, fmt.Errorf("%s: max_drop %s: a ratio is already against the baseline; write it as a rule (%s <= 1.10)", d.Source, d.Value, d.Value))
	}
	a, err := run.Value(d.Value)
	if err != nil {
		return errCheck(c, fmt.Errorf("%s: %w", d.Source, err))
	}
	b, err := base.Value(d.Value)
	if err != nil {
		return errCheck(c, fmt.Errorf("%s: baseline: %w", d.Source, err))
	}
	c.Actual, c.Baseline = &a.V, &b.V
	drop := b.V - a.V
	if !a.HigherBetter {
		drop = -drop
	}
	worse := "dropped"
	if !a.HigherBetter {
		worse = "rose"
	}
	if drop <= d.Max+eps(d.Max) {
		c.Status = Pass
		if drop > 0 {
			c.Message = fmt.Sprintf("%s %s by %s (%s -> %s), within the %s allowed", d.Value, worse, fmtNum(drop), fmtNum(b.V), fmtNum(a.V), fmtNum(d.Max))
		} else {
			c.Message = fmt.Sprintf("%s did not get worse (%s -> %s)", d.Value, fmtNum(b.V), fmtNum(a.V))
		}
		return c
	}
	c.Status = Fail
	c.Message = fmt.Sprintf("%s %s by %s (%s -> %s), more than the %s allowed", d.Value, worse, fmtNum(drop), fmtNum(b.V), fmtNum(a.V), fmtNum(d.Max))
	return c
}

// Incompatible lists what makes base measure differently from run: metric
// definitions (or units, threshold, sweep), the dataset's samples (a
// column added since, such as a trimap, does not count), the splits, the
// selection, and the model spec (name and source aside) where both ran the
// same model file. Empty when comparable.
func Incompatible(run, base *Run) []string {
	var w []string
	a, b := &run.Results, &base.Results
	var defs []string
	for _, m := range a.Metrics {
		if bm, ok := base.metric(m.Name); ok && (bm.Definition != m.Definition || bm.Unit != m.Unit || bm.HigherBetter != m.HigherBetter) {
			defs = append(defs, m.Name)
		}
	}
	if len(defs) > 0 {
		w = append(w, fmt.Sprintf("metric definitions differ from the baseline's for %s (different segtool versions?): the numbers may not be comparable", strings.Join(defs, ", ")))
	}
	if a.Options.Threshold != b.Options.Threshold {
		w = append(w, fmt.Sprintf("threshold %v, baseline %v: the segmentation metrics are measured differently", a.Options.Threshold, b.Options.Threshold))
	}
	if !slices.Equal(a.Options.Sweep, b.Options.Sweep) {
		w = append(w, "the sweep thresholds differ from the baseline's")
	}
	if !sameDataset(a, b) {
		w = append(w, datasetDiff(a, b, "baseline")+": different datasets (or a changed one)")
	}
	if !slices.Equal(a.Dataset.Splits, b.Dataset.Splits) {
		w = append(w, fmt.Sprintf("splits %v, baseline %v: different samples", a.Dataset.Splits, b.Dataset.Splits))
	}
	if a.Options.Limit != b.Options.Limit || !reflect.DeepEqual(a.Dataset.Shard, b.Dataset.Shard) {
		w = append(w, fmt.Sprintf("different sample selections (%s vs the baseline's %s)", selection(a), selection(b)))
	}
	switch {
	case (a.Model == nil) != (b.Model == nil):
		w = append(w, "one of the runs ran a model and the other scored saved predictions")
	case a.Model != nil && a.Model.SHA256 == b.Model.SHA256:
		// Different models have different specs by nature; the runs table
		// shows them. The same model prepared differently is a warning.
		sa, sb := a.Model.Spec, b.Model.Spec
		sa.Name, sb.Name, sa.Source, sb.Source = "", "", "", ""
		// Runs from before segtool recorded element types fed and read
		// float32 only.
		for _, s := range []*models.Spec{&sa, &sb} {
			if s.InputType == "" {
				s.InputType = models.Float32
			}
			if s.OutputType == "" {
				s.OutputType = models.Float32
			}
		}
		if !reflect.DeepEqual(sa, sb) {
			w = append(w, fmt.Sprintf("model spec differs from the baseline's (%s): inputs are prepared or outputs read differently", specDiff(sa, sb)))
		}
	}
	return w
}

// specDiff names the spec fields that differ.
func specDiff(a, b any) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			f := va.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" {
				name = f.Name
			}
			out = append(out, fmt.Sprintf("%s %v, baseline %v", name, va.Field(i).Interface(), vb.Field(i).Interface()))
		}
	}
	return strings.Join(out, "; ")
}

// HardwareNotes says when the runs' timings come from different machines or
// providers (a note, not a warning: CI machines vary).
func HardwareNotes(run, base *Run) []string {
	a, b := run.Results.Environment, base.Results.Environment
	var out []string
	if a.CPU != b.CPU || a.GPU != b.GPU || a.Provider != b.Provider || a.Threads != b.Threads {
		out = append(out, fmt.Sprintf("timings of %s and the baseline come from different hardware or settings (%s vs %s): latency ratios compare machines as well as models", run.Name, envLine(a), envLine(b)))
	}
	return out
}

func envLine(e eval.Environment) string {
	s := e.CPU
	if e.GPU != "" {
		s += ", " + e.GPU
	}
	if e.Provider != "" {
		s += ", " + e.Provider
	}
	if e.Threads > 0 {
		s += fmt.Sprintf(", %d threads", e.Threads)
	}
	return s
}

func selection(r *eval.Results) string {
	s := "all"
	if r.Options.Limit > 0 {
		s = fmt.Sprintf("the first %d", r.Options.Limit)
	}
	if sh := r.Dataset.Shard; sh != nil {
		s += fmt.Sprintf(", shard %d of %d", sh.Index, sh.Count)
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// fmtNum prints a number with up to 6 significant digits.
func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

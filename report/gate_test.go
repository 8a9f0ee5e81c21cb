package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/models"
)

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rule
	}{
		{"dice >= 0.95", Rule{Value: "dice", Op: ">=", Limit: 0.95}},
		{"p50_latency_ratio<=1.10", Rule{Value: "p50_latency_ratio", Op: "<=", Limit: 1.1}},
		{"  mad   <   0.05 ", Rule{Value: "mad", Op: "<", Limit: 0.05}},
		{"dice.mean > 0.9", Rule{Value: "dice.mean", Op: ">", Limit: 0.9}},
	} {
		got, err := ParseRule(tc.in, "x")
		tc.want.Source = "x"
		if err != nil || got != tc.want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"dice", "dice == 0.9", "dice >= high", "dice >= NaN", ">= 0.9 dice extra"} {
		if _, err := ParseRule(bad, "x"); err == nil {
			t.Errorf("ParseRule(%q) accepted", bad)
		}
	}
}

func TestLoadGate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.yaml")
	os.WriteFile(p, []byte("rules:\n  - dice >= 0.95\n  - p50_latency_ratio <= 1.10\nmax_drop:\n  dice: 0.005\n  miou: 0.01\ntiming_noise: false\n"), 0o644)
	g, err := LoadGate(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Rules) != 2 || g.Rules[1].Source != p+":3" || g.Rules[1].Limit != 1.1 {
		t.Errorf("rules %+v", g.Rules)
	}
	if len(g.MaxDrop) != 2 || g.MaxDrop[0] != (Drop{"dice", 0.005, p + ":5"}) || g.MaxDrop[1].Value != "miou" {
		t.Errorf("max_drop %+v (want file order with lines)", g.MaxDrop)
	}
	if g.TimingNoise || g.Strict {
		t.Errorf("timing_noise %v strict %v", g.TimingNoise, g.Strict)
	}
	// The shipped example loads.
	if g, err := LoadGate("../configs/regression.yaml"); err != nil || len(g.Rules) == 0 || len(g.MaxDrop) == 0 || !g.TimingNoise {
		t.Errorf("configs/regression.yaml: %+v, %v", g, err)
	}
	for _, tc := range []struct{ text, want string }{
		{"rules:\n  - dice >= 0.95\nfloors: {dice: 1}\n", "line 3"},
		{"rules:\n  - dice >= 0.95\n  - dice ~ 3\n", ":3"},
		{"max_drop:\n  dice: -1\n", ":2"},
		{"max_drop:\n  dice: lots\n", "lots"},
		{"max_drop: [dice]\n", "map"},
		{"", "empty"},
	} {
		os.WriteFile(p, []byte(tc.text), 0o644)
		if _, err := LoadGate(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gate %q: error %v, want one naming %q", tc.text, err, tc.want)
		}
	}
}

// checks returns the verdict's checks by rule text.
func checks(v Verdict) map[string]Check {
	m := map[string]Check{}
	for _, c := range v.Checks {
		m[c.Rule] = c
	}
	return m
}

// TestGateArithmetic: floors, ceilings, max_drop and ratios on hand-made
// results.json files, at and around their limits.
func TestGateArithmetic(t *testing.T) {
	dir := t.TempDir()
	base := mustLoad(t, resultsFile(t, dir, "base", map[string]float64{"dice": 0.95, "miou": 0.90, "mad": 0.020}, 10, nil))
	run := mustLoad(t, resultsFile(t, dir, "run", map[string]float64{"dice": 0.945, "miou": 0.889, "mad": 0.026}, 11, nil))
	g := NewGate()
	g.TimingNoise = false
	for _, s := range []string{"dice >= 0.945", "dice > 0.945", "dice.mean >= 0.945", "mad <= 0.026", "mad < 0.03", "p50_latency_ratio <= 1.10", "p50_latency_ratio < 1.10", "throughput_ratio >= 0.95", "inference_p50_ms <= 10.5"} {
		r, err := ParseRule(s, "test")
		if err != nil {
			t.Fatal(err)
		}
		g.Rules = append(g.Rules, r)
	}
	g.MaxDrop = []Drop{{"dice", 0.005, "t"}, {"miou", 0.01, "t"}, {"mad", 0.01, "t"}, {"mad.mean", 0.005, "t"}}
	v := g.Evaluate(run, base)
	want := map[string]string{
		"dice >= 0.945":            Pass, // equal to the floor
		"dice > 0.945":             Fail,
		"dice.mean >= 0.945":       Fail, // the mean is 0.944 in the fixture
		"mad <= 0.026":             Pass,
		"mad < 0.03":               Pass,
		"p50_latency_ratio <= 1.1": Pass, // 11/10 = 1.1 (1.1000000000000001 in floats)
		"p50_latency_ratio < 1.1":  Fail,
		"throughput_ratio >= 0.95": Fail, // (1000/11)/(1000/10) = 0.909
		"inference_p50_ms <= 10.5": Fail,
		"max_drop dice 0.005":      Pass, // 0.95 - 0.945 = 0.005, at the allowance
		"max_drop miou 0.01":       Fail, // 0.011
		"max_drop mad 0.01":        Pass, // mad rose 0.006 (lower is better)
		"max_drop mad.mean 0.005":  Fail,
	}
	got := checks(v)
	for rule, st := range want {
		c, ok := got[rule]
		if !ok {
			t.Errorf("no check %q (have %v)", rule, got)
			continue
		}
		if c.Status != st {
			t.Errorf("%s: %s (%s), want %s", rule, c.Status, c.Message, st)
		}
	}
	if c := got["max_drop miou 0.01"]; !strings.Contains(c.Message, "dropped by 0.011") || !strings.Contains(c.Message, "0.9 -> 0.889") {
		t.Errorf("max_drop message %q lacks the numbers", c.Message)
	}
	if c := got["max_drop mad 0.01"]; !strings.Contains(c.Message, "rose by 0.006") {
		t.Errorf("max_drop mad message %q", c.Message)
	}
	if v.Status != Fail || ExitCode([]Verdict{v}) != 1 {
		t.Errorf("verdict %s, exit %d; want fail, 1", v.Status, ExitCode([]Verdict{v}))
	}
	if len(v.Warnings) != 0 {
		t.Errorf("warnings %v for comparable runs", v.Warnings)
	}
}

// TestGateBadInput: missing and unknown values, ratios without a baseline,
// and an incomparable baseline under strict are errors (exit 2).
func TestGateBadInput(t *testing.T) {
	dir := t.TempDir()
	run := mustLoad(t, resultsFile(t, dir, "run", map[string]float64{"dice": 0.96}, 10, nil))
	other := mustLoad(t, resultsFile(t, dir, "other", map[string]float64{"dice": 0.96}, 10, func(r *eval.Results) {
		r.Dataset.ManifestSHA256 = "beef"
		r.Model.Spec.Width = 512
		r.Options.Threshold = 0.4
	}))
	for _, tc := range []struct {
		rule string
		base *Run
		want string
	}{
		{"miou >= 0.9", nil, "has no metric \"miou\""},
		{"dicee >= 0.9", nil, "not a metric"},
		{"dice.median >= 0.9", nil, "mean or accumulated"},
		{"p50_latency_ratio <= 1.1", nil, "compares with a baseline, and none was given"},
		{"e2e_p99_latency_ratio <= 1.1", nil, "compares with a baseline, and none was given"},
	} {
		g := NewGate()
		r, _ := ParseRule(tc.rule, "t")
		g.Rules = []Rule{r}
		v := g.Evaluate(run, tc.base)
		if v.Status != Error || ExitCode([]Verdict{v}) != 2 || !strings.Contains(v.Checks[0].Message, tc.want) {
			t.Errorf("%s: %s %q; want error naming %q", tc.rule, v.Status, v.Checks[0].Message, tc.want)
		}
	}
	g := NewGate()
	g.MaxDrop = []Drop{{"dice", 0.01, "t"}}
	if v := g.Evaluate(run, nil); v.Status != Error || !strings.Contains(v.Checks[0].Message, "compares with a baseline, and none was given") || !g.NeedsBaseline() {
		t.Errorf("max_drop without a baseline: %+v", v)
	}
	// A baseline from before element types were recorded is float32:
	// comparable with a float32 run, not with a float16 one.
	old := mustLoad(t, resultsFile(t, dir, "old", map[string]float64{"dice": 0.96}, 10, func(r *eval.Results) {
		r.Model.Spec.InputType, r.Model.Spec.OutputType = "", ""
	}))
	f32 := mustLoad(t, resultsFile(t, dir, "f32", map[string]float64{"dice": 0.96}, 10, func(r *eval.Results) {
		r.Model.Spec.InputType, r.Model.Spec.OutputType = models.Float32, models.Float32
	}))
	f16 := mustLoad(t, resultsFile(t, dir, "f16", map[string]float64{"dice": 0.96}, 10, func(r *eval.Results) {
		r.Model.Spec.InputType = models.Float16
	}))
	if w := Incompatible(f32, old); len(w) != 0 {
		t.Errorf("float32 run vs a baseline without element types: %q", w)
	}
	if w := Incompatible(f16, old); len(w) != 1 || !strings.Contains(w[0], "input_type float16, baseline float32") {
		t.Errorf("float16 run vs a float32 baseline: %q", w)
	}
	// An incomparable baseline: warnings, and an error under strict.
	v := g.Evaluate(run, other)
	if v.Status != Pass || len(v.Warnings) != 3 {
		t.Fatalf("incomparable baseline without strict: %s, warnings %q; want pass with 3 warnings", v.Status, v.Warnings)
	}
	for _, want := range []string{"manifest", "width 0, baseline 512", "threshold"} {
		if !strings.Contains(strings.Join(v.Warnings, "\n"), want) {
			t.Errorf("warnings %q lack %q", v.Warnings, want)
		}
	}
	g.Strict = true
	if v := g.Evaluate(run, other); v.Status != Error || !v.Refused || ExitCode([]Verdict{v}) != 2 {
		t.Errorf("strict: %s refused %v", v.Status, v.Refused)
	}
	// Several verdicts: an error outranks a failure.
	if ExitCode([]Verdict{{Status: Fail}, {Status: Error}, {Status: Pass}}) != 2 || ExitCode([]Verdict{{Status: Pass}, {Status: Fail}}) != 1 || ExitCode(nil) != 0 {
		t.Error("ExitCode does not rank error > fail > pass")
	}
}

// timedRun is a run whose rows carry the given per-image inference times,
// with results.json's latency figures computed from them (nearest rank, as
// eval does).
func timedRun(name string, ms []float64) *Run {
	r := &Run{Name: name, Results: eval.Results{Model: &eval.ModelRef{}}}
	for i, x := range ms {
		r.Rows = append(r.Rows, eval.Row{ID: string(rune('a' + i)), Status: eval.StatusOK, MS: eval.Times{Inference: x, Total: 2 * x}})
	}
	s := sortedCopy(ms)
	r.Results.Timing.Inference = eval.Latency{P50: nearestRank(s, 0.5), P90: nearestRank(s, 0.9), P99: nearestRank(s, 0.99)}
	r.Results.Timing.EndToEnd = eval.Latency{P50: 2 * nearestRank(s, 0.5)}
	return r
}

// TestNoiseAwareTiming: with n = 20 per-image times the 95% interval of
// the median is the 5th to the 15th order statistic (np = 10,
// 1.96·√(np(1-p)) = 4.38: ranks floor(5.62) = 5 and ceil(14.38) = 15;
// Conover 1999 §3.2).
func TestNoiseAwareTiming(t *testing.T) {
	var spread, double, flat, flat12 []float64
	for i := 1; i <= 20; i++ {
		spread = append(spread, float64(i))
		double = append(double, 2*float64(i))
		flat = append(flat, 10)
		flat12 = append(flat12, 12)
	}
	if lo, hi := quantileCI(sortedCopy(spread), 0.5); lo != 5 || hi != 15 {
		t.Errorf("median interval of 1..20 = [%v, %v], want [5, 15]", lo, hi)
	}
	g := NewGate()
	r, _ := ParseRule("p50_latency_ratio <= 1.10", "t")
	g.Rules = []Rule{r}

	// Twice as slow, but each run's times spread over 1..20 (resp. 2..40):
	// plausible ratios [10/15, 30/5] include 1.1, so it is not counted.
	v := g.Evaluate(timedRun("new", double), timedRun("old", spread))
	c := v.Checks[0]
	if c.Status != Pass || c.Noise == nil || c.Noise.Lo != 10.0/15 || c.Noise.Hi != 6 || *c.Actual != 2 {
		t.Errorf("noisy 2x slowdown: %s %q noise %+v", c.Status, c.Message, c.Noise)
	}
	// The same 2x with the noise rule off fails.
	g.TimingNoise = false
	if v := g.Evaluate(timedRun("new", double), timedRun("old", spread)); v.Status != Fail {
		t.Errorf("2x slowdown without the noise rule: %s", v.Status)
	}
	g.TimingNoise = true
	// A steady 20% slowdown is beyond a spread of zero.
	v = g.Evaluate(timedRun("new", flat12), timedRun("old", flat))
	if c := v.Checks[0]; c.Status != Fail || c.Noise == nil || c.Noise.Lo != 1.2 || !strings.Contains(c.Message, "beyond") {
		t.Errorf("steady slowdown: %s %q %+v", c.Status, c.Message, c.Noise)
	}
	// Too few timed images: the plain comparison.
	v = g.Evaluate(timedRun("new", double[:4]), timedRun("old", spread[:4]))
	if c := v.Checks[0]; c.Status != Fail || c.Noise != nil {
		t.Errorf("4 images: %s %+v", c.Status, c.Noise)
	}
}

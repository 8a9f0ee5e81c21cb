package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/segtool/segtool/eval"
)

// Value names. A run's numbers are read by name, in rules, max_drop and
// tables:
//
//	dice, miou, mad, ...    the metric's headline value: accumulated over the
//	                        dataset (summed counts, then divided) where
//	                        results.json has it (segmentation and boundary
//	                        metrics), else the mean of the per-image values
//	                        (matting metrics)
//	dice.mean, dice_mean    the mean of the per-image values
//	dice.accumulated        the accumulated value
//	inference_p50_ms, inference_p90_ms, inference_p99_ms, inference_mean_ms
//	end_to_end_p50_ms, ..., end_to_end_mean_ms
//	images_per_s, peak_rss_mib
//
// and, against a baseline only, ratios of this run's value to the
// baseline's (> 1 is slower):
//
//	p50_latency_ratio, p90_latency_ratio, p99_latency_ratio, mean_latency_ratio   (inference)
//	e2e_p50_latency_ratio, ..., e2e_mean_latency_ratio                              (end to end)
//	throughput_ratio                                                                 (images/s; < 1 is slower)

// Value is one named number of a run.
type Value struct {
	Name         string  `json:"name"`
	V            float64 `json:"value"`
	Unit         string  `json:"unit"`
	HigherBetter bool    `json:"higher_better"`
	// Kind is "accumulated", "mean" or "timing".
	Kind string `json:"kind"`
}

// ErrUnknownValue is a name that is neither a metric nor a timing figure.
var ErrUnknownValue = errors.New("unknown value")

// ErrMissingValue is a known name that the run does not have (a metric
// missing from results.json, or undefined for every image; inference
// times of a run of saved predictions).
var ErrMissingValue = errors.New("missing value")

// timingValue is a timing figure's definition.
type timingValue struct {
	unit         string
	higherBetter bool
	get          func(*eval.Timing) float64
}

func timingValues() map[string]timingValue {
	ms := "ms per image"
	m := map[string]timingValue{
		"images_per_s": {"images per second (this invocation)", true, func(t *eval.Timing) float64 { return t.Throughput }},
		"peak_rss_mib": {"MiB", false, func(t *eval.Timing) float64 { return t.PeakRSSMiB }},
	}
	for _, l := range []struct {
		prefix string
		get    func(*eval.Timing) *eval.Latency
	}{
		{"inference", func(t *eval.Timing) *eval.Latency { return &t.Inference }},
		{"end_to_end", func(t *eval.Timing) *eval.Latency { return &t.EndToEnd }},
	} {
		get := l.get
		m[l.prefix+"_p50_ms"] = timingValue{ms, false, func(t *eval.Timing) float64 { return get(t).P50 }}
		m[l.prefix+"_p90_ms"] = timingValue{ms, false, func(t *eval.Timing) float64 { return get(t).P90 }}
		m[l.prefix+"_p99_ms"] = timingValue{ms, false, func(t *eval.Timing) float64 { return get(t).P99 }}
		m[l.prefix+"_mean_ms"] = timingValue{ms, false, func(t *eval.Timing) float64 { return get(t).Mean }}
	}
	return m
}

// Value returns the run's value called name (see the names above; ratios
// need a baseline and come from Ratio).
func (r *Run) Value(name string) (Value, error) {
	if tv, ok := timingValues()[name]; ok {
		v := tv.get(&r.Results.Timing)
		if v == 0 { // eval leaves figures it did not measure at zero
			return Value{}, fmt.Errorf("%w: %s: run %s has no %s", ErrMissingValue, name, r.Name, strings.ReplaceAll(name, "_", " "))
		}
		return Value{Name: name, V: v, Unit: tv.unit, HigherBetter: tv.higherBetter, Kind: "timing"}, nil
	}
	base, kind, _ := strings.Cut(name, ".")
	if b, ok := strings.CutSuffix(name, "_mean"); ok && kind == "" {
		base, kind = b, "mean" // the name eval's JSON summary gives the mean
	}
	switch kind {
	case "", "mean", "accumulated":
	default:
		return Value{}, fmt.Errorf("%w: %q (after the dot: mean or accumulated)", ErrUnknownValue, name)
	}
	m, ok := r.metric(base)
	if !ok {
		if _, known := eval.DefaultRegistry().Lookup(base); known {
			return Value{}, fmt.Errorf("%w: %s: run %s's results.json has no metric %q", ErrMissingValue, name, r.Name, base)
		}
		return Value{}, fmt.Errorf("%w: %q is not a metric of run %s (%s) nor a timing figure (%s)", ErrUnknownValue, name, r.Name, strings.Join(r.metricNames(), ", "), strings.Join(timingNames(), ", "))
	}
	v := Value{Name: name, Unit: m.Unit, HigherBetter: m.HigherBetter}
	var p *float64
	switch {
	case kind == "accumulated" || (kind == "" && m.Accumulated != nil):
		p, v.Kind = m.Accumulated, "accumulated"
	default:
		p, v.Kind = m.Mean, "mean"
	}
	if p == nil {
		return Value{}, fmt.Errorf("%w: %s: run %s has no %s value of %s (undefined for its images, or not reported)", ErrMissingValue, name, r.Name, v.Kind, base)
	}
	v.V = *p
	return v, nil
}

func (r *Run) metricNames() []string {
	var out []string
	for _, m := range r.Results.Metrics {
		out = append(out, m.Name)
	}
	return out
}

func timingNames() []string {
	var out []string
	for k := range timingValues() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ratioValue is a latency ratio's definition: the timing figure it divides
// and the per-image times whose spread makes its noise interval.
type ratioValue struct {
	of       string  // timing value name
	quantile float64 // 0 for the mean
	e2e      bool
}

func ratioValues() map[string]ratioValue {
	m := map[string]ratioValue{"throughput_ratio": {of: "images_per_s"}}
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"mean", 0}} {
		m[q.name+"_latency_ratio"] = ratioValue{of: "inference_" + q.name + "_ms", quantile: q.p}
		m["e2e_"+q.name+"_latency_ratio"] = ratioValue{of: "end_to_end_" + q.name + "_ms", quantile: q.p, e2e: true}
	}
	return m
}

// IsRatio reports whether name is a ratio against a baseline.
func IsRatio(name string) bool {
	_, ok := ratioValues()[name]
	return ok
}

// Ratio returns run's value over the baseline's for a ratio name.
func Ratio(run, base *Run, name string) (Value, error) {
	rv, ok := ratioValues()[name]
	if !ok {
		return Value{}, fmt.Errorf("%w: %q is not a ratio", ErrUnknownValue, name)
	}
	a, err := run.Value(rv.of)
	if err != nil {
		return Value{}, err
	}
	b, err := base.Value(rv.of)
	if err != nil {
		return Value{}, err
	}
	return Value{Name: name, V: a.V / b.V, Unit: "ratio to the baseline's " + rv.of, HigherBetter: a.HigherBetter, Kind: "timing"}, nil
}

// DefaultHeadline are the metrics a report shows first.
func DefaultHeadline() []string {
	return []string{"dice", "iou", "miou", "boundary_iou", "boundary_f", "mad", "sad"}
}

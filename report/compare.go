package report

import (
	"fmt"
	"slices"
	"sort"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// Comparison is run B against run A: their values side by side and the
// per-image changes of one metric.
type Comparison struct {
	A, B string
	Rows []CompareRow
	// Paired is nil when either run has no per-image rows.
	Paired *Paired
	// Facts are A's and B's runs table rows: a different model and spec
	// are what a comparison of models is about, so they show here, not as
	// warnings.
	Facts    []Facts
	Warnings []string
	Notes    []string
}

// CompareRow is one value of both runs; Delta = B - A.
type CompareRow struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	Unit  string   `json:"unit"`
	A     *float64 `json:"a"`
	B     *float64 `json:"b"`
	Delta *float64 `json:"delta,omitempty"`
	// Better is +1 when B is better, -1 when worse, 0 for no change.
	Better int `json:"better"`
}

// Paired is the per-image comparison of one metric over the images scored
// in both runs.
type Paired struct {
	Metric string `json:"metric"`
	N      int    `json:"n"`
	Better int    `json:"better"`
	Worse  int    `json:"worse"`
	Tied   int    `json:"tied"`
	// P is the exact two-sided sign test's p-value (SignTest).
	P float64 `json:"p"`
	// MeanDelta is the mean of B - A over the pairs.
	MeanDelta float64 `json:"mean_delta"`
	// Improved and Regressed are the largest changes each way, largest
	// first.
	Improved  []ImageDelta `json:"improved"`
	Regressed []ImageDelta `json:"regressed"`
	// OnlyA and OnlyB count images scored in one run only.
	OnlyA int `json:"only_a"`
	OnlyB int `json:"only_b"`
}

// ImageDelta is one image's value in both runs.
type ImageDelta struct {
	ID    string  `json:"id"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
	Delta float64 `json:"delta"`
}

// tieTol is how close two per-image values must be to count as a tie (the
// same prediction scores identically; this only absorbs float noise).
const tieTol = 1e-12

// Compare compares run b with run a: every metric and timing figure of
// either, and per image the metric (a registered per-image metric, e.g.
// dice), with up to top images listed each way.
func Compare(a, b *Run, metric string, top int) (*Comparison, error) {
	Label([]*Run{a, b})
	c := &Comparison{A: a.Name, B: b.Name, Warnings: Incompatible(b, a)}
	c.Facts, _ = FactsOf([]*Run{a, b})
	c.Notes = append(c.Notes, HardwareNotes(b, a)...)
	c.Notes = append(c.Notes, TrimapNotes(b, a)...)
	var names []string
	for _, r := range []*Run{a, b} {
		for _, m := range r.Results.Metrics {
			if !slices.Contains(names, m.Name) {
				names = append(names, m.Name)
			}
		}
	}
	names = append(names, "inference_p50_ms", "inference_p90_ms", "inference_p99_ms", "end_to_end_p50_ms", "end_to_end_p99_ms", "images_per_s", "peak_rss_mib")
	for _, n := range names {
		row := CompareRow{Name: n}
		var hb bool
		for i, r := range []*Run{a, b} {
			v, err := r.Value(n)
			if err != nil {
				continue
			}
			x := v.V
			if i == 0 {
				row.A = &x
			} else {
				row.B = &x
			}
			row.Kind, row.Unit, hb = v.Kind, v.Unit, v.HigherBetter
		}
		if row.A == nil && row.B == nil {
			continue
		}
		if row.A != nil && row.B != nil {
			d := *row.B - *row.A
			row.Delta, row.Better = &d, better(d, hb)
		}
		c.Rows = append(c.Rows, row)
	}
	if a.Rows == nil || b.Rows == nil {
		c.Notes = append(c.Notes, "no per-image rows in one of the runs: no per-image comparison")
		return c, nil
	}
	m, ok := eval.DefaultRegistry().Lookup(metric)
	if !ok {
		return nil, &dataset.OptionError{Field: "By", Err: fmt.Errorf("%s: not a per-image metric", metric)}
	}
	p, err := pairImages(a, b, m, top)
	if err != nil {
		return nil, err
	}
	c.Paired = p
	return c, nil
}

func pairImages(a, b *Run, m eval.Metric, top int) (*Paired, error) {
	ida, va, _ := a.PerImage(m.Name)
	idb, vb, _ := b.PerImage(m.Name)
	inB := map[string]float64{}
	for i, id := range idb {
		inB[id] = vb[i]
	}
	p := &Paired{Metric: m.Name}
	var ds []ImageDelta
	seen := map[string]bool{}
	for i, id := range ida {
		y, ok := inB[id]
		if !ok {
			p.OnlyA++
			continue
		}
		seen[id] = true
		d := ImageDelta{ID: id, A: va[i], B: y, Delta: y - va[i]}
		ds = append(ds, d)
		p.MeanDelta += d.Delta
		switch {
		case abs(d.Delta) <= tieTol:
			p.Tied++
		case (d.Delta > 0) == m.HigherBetter:
			p.Better++
		default:
			p.Worse++
		}
	}
	p.OnlyB = len(idb) - len(seen)
	p.N = len(ds)
	if p.N > 0 {
		p.MeanDelta /= float64(p.N)
	}
	p.P = SignTest(p.Better, p.Worse)
	// Largest improvements and regressions, ties by id.
	gain := func(d ImageDelta) float64 {
		if m.HigherBetter {
			return d.Delta
		}
		return -d.Delta
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if gain(ds[i]) != gain(ds[j]) {
			return gain(ds[i]) > gain(ds[j])
		}
		return ds[i].ID < ds[j].ID
	})
	for _, d := range ds {
		if len(p.Improved) < top && gain(d) > tieTol {
			p.Improved = append(p.Improved, d)
		}
	}
	for i := len(ds) - 1; i >= 0; i-- {
		if len(p.Regressed) < top && gain(ds[i]) < -tieTol {
			p.Regressed = append(p.Regressed, ds[i])
		}
	}
	return p, nil
}

// Verdict says in words what the sign test found at the 5% level.
func (p *Paired) Verdict() string {
	switch {
	case p.Better+p.Worse == 0:
		return fmt.Sprintf("no image changed its %s", p.Metric)
	case p.P < 0.05 && p.Better > p.Worse:
		return fmt.Sprintf("%s improved on more images than chance explains (p = %.3g < 0.05)", p.Metric, p.P)
	case p.P < 0.05:
		return fmt.Sprintf("%s got worse on more images than chance explains (p = %.3g < 0.05)", p.Metric, p.P)
	default:
		return fmt.Sprintf("the split of better and worse images is within noise (p = %.3g >= 0.05)", p.P)
	}
}

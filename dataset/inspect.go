package dataset

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Stats summarise a dataset for `segtool inspect`.
type Stats struct {
	Samples   int                `json:"samples"`
	Splits    map[string]int     `json:"splits"`
	Sources   map[string]int     `json:"sources"` // by the first folder of each row's first source path
	Sizes     map[string]int     `json:"sizes"`   // "WxH" -> count
	FGQuant   map[string]float64 `json:"fg_fraction"`
	SoftAlpha float64            `json:"soft_alpha"` // share of alpha pixels with 0 < a < 255, over all alphas
	AlphaPix  int                `json:"alpha_pixels"`
	Rejects   map[string]int     `json:"rejects"` // code -> count (rejected, not kept)
	Flagged   map[string]int     `json:"flagged"` // code -> count (kept but flagged)
}

// Quantiles reported for fg_fraction.
var fgQuantiles = []struct {
	name string
	q    float64
}{{"min", 0}, {"p05", 0.05}, {"p25", 0.25}, {"p50", 0.5}, {"p75", 0.75}, {"p95", 0.95}, {"max", 1}}

// Inspect computes Stats. Reading alphas for the soft-pixel share is the
// only pass over pixels.
func Inspect(ctx context.Context, d *Dataset) (Stats, error) {
	st := Stats{Samples: len(d.Samples), Splits: map[string]int{}, Sources: map[string]int{}, Sizes: map[string]int{},
		FGQuant: map[string]float64{}, Rejects: map[string]int{}, Flagged: map[string]int{}}
	var fg []float64
	soft := 0
	for _, s := range d.Samples {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Splits[s.Split]++
		src := "(none)"
		if len(s.Source) > 0 {
			src = strings.SplitN(s.Source[0], "/", 2)[0]
		}
		st.Sources[src]++
		st.Sizes[fmt.Sprintf("%dx%d", s.Width, s.Height)]++
		fg = append(fg, s.FGFrac)
		if s.Alpha == "" {
			continue
		}
		b, err := os.ReadFile(d.Path(s.Alpha))
		if err != nil {
			return st, fmt.Errorf("sample %s: %w", s.ID, err)
		}
		m, _, _, err := d.Decoder.Label(s.Alpha, b)
		if err != nil {
			return st, fmt.Errorf("sample %s: %w", s.ID, err)
		}
		px, _ := m.DataPtrUint8()
		for _, v := range px {
			if v != 0 && v != 255 {
				soft++
			}
		}
		st.AlphaPix += len(px)
		m.Close()
	}
	if st.AlphaPix > 0 {
		st.SoftAlpha = float64(soft) / float64(st.AlphaPix)
	}
	sort.Float64s(fg)
	if len(fg) > 0 {
		for _, q := range fgQuantiles {
			st.FGQuant[q.name] = quantile(fg, q.q)
		}
	}
	rejects, err := ReadRejects(d.Dir)
	if err != nil {
		return st, err
	}
	for _, r := range rejects {
		if r.Kept {
			st.Flagged[r.Code]++
		} else {
			st.Rejects[r.Code]++
		}
	}
	return st, nil
}

// quantile of sorted xs by linear interpolation between order statistics
// (type 7 in Hyndman & Fan 1996, numpy's default).
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}

// FGQuantileNames lists the fg_fraction quantiles in display order.
func FGQuantileNames() []string {
	var ns []string
	for _, q := range fgQuantiles {
		ns = append(ns, q.name)
	}
	return ns
}

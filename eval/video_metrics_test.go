package eval

import (
	"math"
	"testing"
)

// A hand-worked clip of three frames of two pixels (N = 2), threshold 0.5,
// mask = alpha (0 or 255):
//
//	p0 = [0.2, 0.6]  g0 = [0, 1]
//	p1 = [0.5, 0.6]  g1 = [0, 1]
//	p2 = [0.5, 0.1]  g2 = [1, 1]
//
// dtSSD_1: Δp = [0.3, 0], Δg = [0, 0]: 100·sqrt(0.09/2) = 21.2132034
// dtSSD_2: Δp = [0, −0.5], Δg = [1, 0]: 100·sqrt((1 + 0.25)/2) = 79.0569415
// clip dtSSD = (21.2132034 + 79.0569415)/2 = 50.1350725 (RVM's script:
// (0 + 21.21 + 79.06)/3 = 33.4233817).
// MAD per frame 0.3, 0.45, 0.7: mean 0.4833333; MSE 0.1, 0.205, 0.53: mean
// 0.2783333.
// Flicker: frame 1, both pixels' truth stable, no prediction flips; frame
// 2, pixel 0's truth changes, pixel 1 is stable and flips (0.6 → 0.1):
// 1/3.
// IoU over the clip: TP 1+1+0, FN 0+0+2: 2/4; Dice 4/6.
func TestClipHandWorked(t *testing.T) {
	p := [][]float32{{0.2, 0.6}, {0.5, 0.6}, {0.5, 0.1}}
	g := [][]uint8{{0, 255}, {0, 255}, {255, 255}}
	o := DefaultOptions()
	o.Skip = []string{GroupBoundary}
	var rows []Row
	for f := range p {
		sc, err := Score(Pair{W: 2, H: 1, Prob: p[f], Alpha: g[f], Mask: g[f]}, o)
		if err != nil {
			t.Fatal(err)
		}
		if f > 0 {
			ts := frameTemporal(p[f], p[f-1], g[f], g[f-1], g[f], g[f-1], o.Threshold)
			sc.Temporal = &ts
		}
		// Rows out of frame order: Clips sorts by frame.
		rows = append([]Row{{ID: "c" + string(rune('0'+f)), Clip: "c", Frame: &f, Status: StatusOK, Score: &sc}}, rows...)
	}
	if d1, d2 := rows[1].Score.Temporal.DTSSD, rows[0].Score.Temporal.DTSSD; math.Abs(d1-21.2132034) > 1e-5 || math.Abs(d2-79.0569415) > 1e-5 {
		t.Errorf("dtSSD_t %v %v, want 21.2132034 79.0569415", d1, d2)
	}
	cs := Clips(rows)
	if len(cs) != 1 || cs[0].Frames != 3 || cs[0].Pairs != 2 {
		t.Fatalf("clips %+v", cs)
	}
	c := &cs[0]
	near := func(name string, got float64, ok bool, want float64) {
		t.Helper()
		if !ok || math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
	v, ok := c.DTSSD()
	near("dtssd", v, ok, 50.1350725)
	near("rvm dtssd", v*2/3, ok, 33.4233817)
	v, ok = c.MAD()
	near("mad", v, ok, 1.45/3)
	v, ok = c.MSE()
	near("mse", v, ok, 0.835/3)
	v, ok = c.Flicker()
	near("flicker", v, ok, 1.0/3)
	near("iou", c.IoU(), true, 0.5)
	near("dice", c.Dice(), true, 2.0/3)
	if c.FrameIndex[0] != 0 || c.FrameIndex[2] != 2 || math.Abs(c.FrameMAD[1]-0.45) > 1e-6 {
		t.Errorf("frames %v %v", c.FrameIndex, c.FrameMAD)
	}

	// The dataset values: the mean over clips, and flicker's accumulated
	// value over every pair. A second clip with dtSSD 0 and no flips
	// halves the mean dtSSD; flicker accumulates (1+0)/(3+2).
	z := 0
	one := 1
	s0, _ := Score(Pair{W: 2, H: 1, Prob: []float32{1, 1}, Mask: []uint8{255, 255}}, o)
	s1 := s0
	s1.Temporal = &TemporalScores{Stable: 2}
	rows = append(rows, Row{ID: "d0", Clip: "d", Frame: &z, Status: StatusOK, Score: &s0}, Row{ID: "d1", Clip: "d", Frame: &one, Status: StatusOK, Score: &s1})
	sums := map[string]MetricSummary{}
	for _, s := range videoSummaries(runMetrics(nil, true), Clips(rows)) {
		sums[s.Name] = s
	}
	if s := sums["dtssd"]; s.Mean == nil || math.Abs(*s.Mean-50.1350725/2) > 1e-6 || s.Accumulated != nil || s.MeanImages != 2 || s.HigherBetter {
		t.Errorf("dtssd summary %+v", s)
	}
	if s := sums["flicker"]; s.Mean == nil || math.Abs(*s.Mean-1.0/6) > 1e-9 || s.Accumulated == nil || math.Abs(*s.Accumulated-1.0/5) > 1e-9 {
		t.Errorf("flicker summary %+v", s)
	}
}

package eval

import (
	"encoding/json"
	"reflect"
	"testing"
)

func summary(t *testing.T, a Aggregate, name string) MetricSummary {
	t.Helper()
	for _, m := range a.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no %s in aggregate", name)
	return MetricSummary{}
}

// TestAccumulatedVersusMean: image A is a perfect 1-pixel person (IoU 1),
// image B predicts all 4 pixels for a 1-pixel person (TP 1, FP 3: IoU
// 1/4, Dice 2/5). The mean of per-image IoU is (1 + 1/4)/2 = 5/8; the
// accumulated IoU is (1+1)/(2+3) = 2/5. Dice: mean (1 + 2/5)/2 = 7/10,
// accumulated 4/(4+3) = 4/7.
func TestAccumulatedVersusMean(t *testing.T) {
	mask := []uint8{255, 0, 0, 0}
	a := mustScore(t, Pair{W: 2, H: 2, Prob: []float32{1, 0, 0, 0}, Mask: mask}, DefaultOptions())
	b := mustScore(t, Pair{W: 2, H: 2, Prob: []float32{1, 1, 1, 1}, Mask: mask}, DefaultOptions())
	agg, err := AggregateImages(DefaultRegistry().Metrics(), []ImageScores{a, b})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		mean, acc float64
	}{
		{"iou", 5.0 / 8, 2.0 / 5},
		{"dice", 7.0 / 10, 4.0 / 7},
		{"f1", 7.0 / 10, 4.0 / 7},
		{"precision", (1 + 1.0/4) / 2, 2.0 / 5},
		{"recall", 1, 1},
		{"accuracy", (1 + 1.0/4) / 2, 5.0 / 8},
		// background IoU: A 3/3, B 0/3; accumulated 3/6.
		{"miou", (1 + (0+1.0/4)/2) / 2, (2.0/5 + 3.0/6) / 2},
	} {
		m := summary(t, agg, c.name)
		if m.Mean == nil || m.Accumulated == nil || !near(*m.Mean, c.mean, 1e-15) || !near(*m.Accumulated, c.acc, 1e-15) || m.MeanImages != 2 {
			t.Errorf("%s: mean %v accumulated %v over %d; want %v, %v over 2", c.name, ptr(m.Mean), ptr(m.Accumulated), m.MeanImages, c.mean, c.acc)
		}
	}
	if agg.Images != 2 || agg.Totals.TP != 2 || agg.Totals.FP != 3 || agg.Totals.TN != 3 || agg.Totals.Pixels != 8 {
		t.Errorf("totals %+v", agg.Totals)
	}
	// Matting metrics are means only, and no trimap means no unknown values.
	if m := summary(t, agg, "mad"); m.Accumulated != nil || m.Mean == nil || !near(*m.Mean, (0+3.0/4)/2, 1e-7) {
		t.Errorf("mad: %+v", m)
	}
	if m := summary(t, agg, "mad_unknown"); m.Mean != nil || m.MeanImages != 0 {
		t.Errorf("mad_unknown without trimaps: %+v", m)
	}
	// The sweep at 0.5: the same counts as the threshold.
	for _, s := range agg.Sweep {
		if s.Threshold == 0.5 && (!near(s.IoUAccumulated, 2.0/5, 1e-15) || !near(s.IoUMean, 5.0/8, 1e-15) ||
			!near(s.DiceAccumulated, 4.0/7, 1e-15) || !near(s.DiceMean, 7.0/10, 1e-15)) {
			t.Errorf("sweep at 0.5: %+v", s)
		}
	}
	if len(agg.Sweep) != 19 {
		t.Errorf("%d sweep points", len(agg.Sweep))
	}
}

func ptr(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestAggregateJSONAndDeterminism(t *testing.T) {
	var images []ImageScores
	for i := range 5 {
		p := tinyPair()
		p.Alpha = []uint8{250, 200, 255, 3, 0, 40, 9, 255}
		if i%2 == 0 {
			p.Trimap = []uint8{128, 128, 255, 0, 128, 128, 0, 255}
		}
		p.Prob[i] = float32(i) / 7
		images = append(images, mustScore(t, p, DefaultOptions()))
	}
	// Images survive per_image.jsonl exactly.
	for _, im := range images {
		b, err := json.Marshal(im)
		if err != nil {
			t.Fatal(err)
		}
		var back ImageScores
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, im) {
			t.Fatalf("JSON round trip changed the image:\n%+v\n%+v", im, back)
		}
	}
	ms := DefaultRegistry().Metrics()
	a1, err := AggregateImages(ms, images)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := AggregateImages(ms, images)
	j1, _ := json.Marshal(a1)
	j2, _ := json.Marshal(a2)
	if string(j1) != string(j2) {
		t.Error("same images, same order, different aggregate")
	}
	if m := summary(t, a1, "mse_unknown"); m.MeanImages != 3 || a1.Totals.UnknownImages != 3 {
		t.Errorf("unknown-region images: %d, %d; want 3", m.MeanImages, a1.Totals.UnknownImages)
	}
	var back Aggregate
	if err := json.Unmarshal(j1, &back); err != nil || !reflect.DeepEqual(back.Totals, a1.Totals) {
		t.Errorf("aggregate JSON round trip: %v", err)
	}

	// Different sweeps cannot be mixed.
	other := mustScore(t, tinyPair(), Options{Threshold: 0.5, Sweep: []float64{0.3}})
	agg := NewAggregator(ms)
	if err := agg.Add(&images[0]); err != nil {
		t.Fatal(err)
	}
	if err := agg.Add(&other); err == nil {
		t.Error("mixed sweeps accepted")
	}
}

func TestAggregateEmpty(t *testing.T) {
	a := NewAggregator(DefaultRegistry().Metrics()).Result()
	if a.Images != 0 || len(a.Sweep) != 0 {
		t.Errorf("%+v", a)
	}
	for _, m := range a.Metrics {
		if m.Mean != nil || m.Accumulated != nil {
			t.Errorf("%s defined over no images", m.Name)
		}
	}
	if _, err := json.Marshal(a); err != nil {
		t.Error(err)
	}
}

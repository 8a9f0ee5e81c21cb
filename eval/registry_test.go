package eval

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistryNames(t *testing.T) {
	r := DefaultRegistry()
	want := []string{"iou", "miou", "dice", "accuracy", "precision", "recall", "f1", "boundary_iou", "boundary_f",
		"mad", "mse", "sad", "grad", "conn", "mad_unknown", "mse_unknown", "sad_unknown", "grad_unknown", "conn_unknown", "dtssd", "flicker"}
	for _, pre := range []string{"box_", "mask_"} {
		for _, s := range []string{"ap", "ap50", "ap75", "ap_s", "ap_m", "ap_l", "ar1", "ar10", "ar100", "ar_s", "ar_m", "ar_l"} {
			want = append(want, pre+s)
		}
	}
	if got := r.Names(); !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	groups := map[string]bool{GroupSegmentation: true, GroupBoundary: true, GroupMatting: true, GroupMattingUnknown: true, GroupVideo: true}
	for _, m := range r.Metrics() {
		if m.Group == GroupInstances { // COCO's figures: dataset values only, computed by COCOeval
			if _, ok := m.PerImage(&ImageScores{}); ok || m.Accumulated != nil || !m.HigherBetter || m.Definition == "" {
				t.Errorf("%s: %+v", m.Name, m)
			}
			continue
		}
		if !groups[m.Group] || m.Definition == "" || m.Unit == "" || m.PerImage == nil {
			t.Errorf("%s: incomplete %+v", m.Name, m)
		}
		if strings.Contains(m.Definition, "\n") {
			t.Errorf("%s: definition is not one line", m.Name)
		}
		seg := m.Group == GroupSegmentation || m.Group == GroupBoundary
		if seg != (m.Accumulated != nil) || seg != m.HigherBetter {
			t.Errorf("%s: accumulated %v, higher better %v", m.Name, m.Accumulated != nil, m.HigherBetter)
		}
		if (m.PerClip != nil) != (m.Group == GroupVideo) {
			t.Errorf("%s: group %s, per-clip function %v", m.Name, m.Group, m.PerClip != nil)
		}
		if strings.HasSuffix(m.Name, "_unknown") != (m.Group == GroupMattingUnknown) {
			t.Errorf("%s in group %s", m.Name, m.Group)
		}
	}
	// The empty-mask conventions are stated where a report prints them.
	for name, phrase := range map[string]string{"iou": "two empty masks (0/0) give 1", "dice": "two empty masks (0/0) give 1",
		"f1": "equals Dice", "mad": "L1", "mse": "not multiplied by 1000",
		"dtssd": "also averages a 0 for frame 0", "flicker": "binarised truth"} {
		if m, _ := r.Lookup(name); !strings.Contains(m.Definition, phrase) {
			t.Errorf("%s definition lacks %q: %s", name, phrase, m.Definition)
		}
	}
}

func TestRegistrySelect(t *testing.T) {
	r := DefaultRegistry()
	ms, err := r.Select([]string{"dice", "iou"})
	if err != nil || len(ms) != 2 || ms[0].Name != "dice" || ms[1].Name != "iou" {
		t.Errorf("select dice, iou: %v %v", ms, err)
	}
	if all, err := r.Select(nil); err != nil || len(all) != len(r.Names()) {
		t.Errorf("select all: %d, %v", len(all), err)
	}
	if _, err := r.Select([]string{"l1"}); err == nil || !strings.Contains(err.Error(), "known: iou, miou") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := r.Select([]string{"iou", "iou"}); err == nil {
		t.Error("repeated name accepted")
	}
	if err := r.Add(Metric{Name: "iou", PerImage: func(*ImageScores) (float64, bool) { return 0, true }}); err == nil {
		t.Error("duplicate metric accepted")
	}
	// Registries are independent values.
	if err := NewRegistry().Add(Metric{Name: "x", PerImage: func(*ImageScores) (float64, bool) { return 0, true }}); err != nil {
		t.Error(err)
	}
	if _, ok := DefaultRegistry().Lookup("x"); ok {
		t.Error("registries share state")
	}
}

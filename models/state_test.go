package models

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// withPrior lays 3 colour values and the prior per pixel out as the
// layout says; 2 pixels, colours (1,2,3) and (4,5,6), prior 0.25 and 0.75.
func TestWithPriorLayouts(t *testing.T) {
	s := &Stream{rgb: []float32{1, 4, 2, 5, 3, 6}} // NCHW: R plane, G plane, B plane
	if got := s.withPrior(NCHW, 2); !slices.Equal(got, []float32{1, 4, 2, 5, 3, 6, 0, 0}) {
		t.Errorf("NCHW, no prior: %v", got)
	}
	s.prior = []float32{0.25, 0.75}
	if got := s.withPrior(NCHW, 2); !slices.Equal(got, []float32{1, 4, 2, 5, 3, 6, 0.25, 0.75}) {
		t.Errorf("NCHW: %v", got)
	}
	s = &Stream{rgb: []float32{1, 2, 3, 4, 5, 6}, prior: []float32{0.25, 0.75}} // NHWC: pixel by pixel
	if got := s.withPrior(NHWC, 2); !slices.Equal(got, []float32{1, 2, 3, 0.25, 4, 5, 6, 0.75}) {
		t.Errorf("NHWC: %v", got)
	}
	s.prior = nil
	if got := s.withPrior(NHWC, 2); !slices.Equal(got, []float32{1, 2, 3, 0, 4, 5, 6, 0}) {
		t.Errorf("NHWC, no prior: %v", got)
	}
	if (Spec{PriorMask: true}).InputChannels() != 4 || (Spec{}).InputChannels() != 3 {
		t.Error("InputChannels: want 4 with a prior mask, else 3")
	}
	if got := (Spec{PriorMask: true, Layout: NHWC, Width: 5, Height: 2}).InputShape(1); !slices.Equal(got, []int64{1, 2, 5, 4}) {
		t.Errorf("InputShape %v", got)
	}
}

// LoadSpec records each state pair's and constant's line, and a fault
// in one names it.
func TestLoadSpecRecurrent(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "v.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := "input: src\noutput: pha\nrecurrent:\n  states:\n    - {input: r1i, output: r1o, shape: [1, 1, 1, 1]}\n"
	p := write(head + "    - {input: r2i, output: r2o}\n  constants:\n    - {name: downsample_ratio, value: [0.25]}\n")
	s, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Stateful() || len(s.states()) != 2 || s.states()[1].Where != p+":6" || s.constants()[0].Where != p+":8" {
		t.Errorf("loaded %+v", s.Recurrent)
	}
	if got := s.constants()[0].shape(); !slices.Equal(got, []int64{1}) {
		t.Errorf("constant shape %v, want [1]", got)
	}
	ins, outs := s.sessionNames()
	if !slices.Equal(ins, []string{"src", "r1i", "r2i", "downsample_ratio"}) || !slices.Equal(outs, []string{"pha", "r1o", "r2o"}) {
		t.Errorf("session names %v %v", ins, outs)
	}
	for _, c := range []struct{ body, want string }{
		{head + "  constants:\n    - {name: k, value: [1, 2, 3], shape: [2]}\n", ":7: constants[0]: 3 values do not fill shape [2]"},
		{head + "    - {input: r1i, output: r2o}\n", ":6: states[1]: tensor \"r1i\" is already used by"},
		{head + "    - {input: r2i, output: r2o, shape: [1, 0]}\n", ":6: states[1]: shape [1 0]"},
		{head + "    - {input: src, output: r2o}\n", ":6: states[1]: tensor \"src\" is the image's"},
		{"input: src\nrecurrent:\n  constants:\n    - {name: k, value: [1]}\n", "recurrent: no states"},
	} {
		_, err := LoadSpec(write(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error containing %q", c.body, err, c.want)
		}
	}
}

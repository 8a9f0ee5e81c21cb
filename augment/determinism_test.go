package augment

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"gocv.io/x/gocv"
)

// everyOp runs every op with random parameters, for determinism and leak
// checks.
const everyOp = `
ops:
  - add: {value: [-20, 20], per_channel: 0.5}
  - add_elementwise: {value: [-10, 10], per_channel: 0.5}
  - gaussian_noise: {sigma: [0, 10], per_channel: 0.5}
  - brightness_hsv: {scale: [0.7, 1.3], shift: [-10, 10]}
  - hue_saturation: {hue: [-20, 20], saturation: [0.7, 1.3]}
  - gamma: {gamma: [0.7, 1.5], per_channel: 0.5}
  - contrast: {alpha: [0.7, 1.3]}
  - jpeg_quality: {quality: [40, 95]}
  - one_of:
      ops:
        - mean_blur: {kernel: [3, 5]}
        - median_blur: {kernel: [3, 5]}
        - gaussian_blur: {sigma: [0, 2]}
        - gaussian_blur: {kernel: [3, 7]}
  - occlusion: {count: [1, 3], fill: [noise, constant, patch], value: [0, 255], occlude_mask: 0.5}
  - sometimes:
      p: 0.7
      ops: [fliplr, flipud]
  - affine: {rotate: [-20, 20], scale: [0.8, 1.2], translate_x: [-0.1, 0.1], translate_y: [-0.1, 0.1], shear: [-5, 5], border: [constant, reflect101, replicate], fill: [0, 255]}
  - rotate: {angle: [-10, 10], border: reflect}
  - some_of:
      n: [1, 2]
      random_order: true
      ops:
        - random_crop: {scale: [0.5, 1], aspect: [0.8, 1.25], center: [random, unknown]}
        - random_crop: {width: [100, 150], height: [100, 150]}
        - resize: {width: [150, 250], interpolation: [linear, area, cubic, nearest]}
  - sequential:
      random_order: true
      ops:
        - pad_to: {width: 260, height: 260, position: random, border: [constant, reflect]}
        - resize: {width: 240, height: 240}
`

type result struct {
	mats [4][]byte
	log  string
}

func run(t testing.TB, p *Pipeline, s *Sample, seed int64, id string, copyIdx int) result {
	c, log := apply(t, p, s, seed, id, copyIdx)
	defer c.Close()
	js, err := json.Marshal(log)
	if err != nil {
		t.Fatal(err)
	}
	var r result
	for i, m := range c.mats() {
		r.mats[i] = bytesOf(t, m)
	}
	r.log = string(js)
	return r
}

func (r result) equal(o result) bool {
	for i := range r.mats {
		if !bytes.Equal(r.mats[i], o.mats[i]) {
			return false
		}
	}
	return r.log == o.log
}

func TestDeterminism(t *testing.T) {
	p := mustParse(t, everyOp)
	s := personSample(t, 240, 200)
	defer s.Close()
	a, b := run(t, p, s, 42, "img-001", 3), run(t, p, s, 42, "img-001", 3)
	if !a.equal(b) {
		t.Fatalf("same key gave different results:\n%s\n%s", a.log, b.log)
	}
	for _, other := range []result{run(t, p, s, 42, "img-001", 4), run(t, p, s, 43, "img-001", 3), run(t, p, s, 42, "img-002", 3)} {
		if other.log == a.log {
			t.Errorf("a different key drew the same parameters: %s", a.log)
		}
	}
}

// TestDeterminismConcurrent: two goroutines applying to clones in opposite
// orders get exactly what a sequential run gets.
func TestDeterminismConcurrent(t *testing.T) {
	p := mustParse(t, everyOp)
	s := personSample(t, 240, 200)
	defer s.Close()
	const n = 12
	want := make([]result, n)
	for i := range want {
		want[i] = run(t, p, s, 9, "img", i)
	}
	var got [2][n]result
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				i := k
				if g == 1 {
					i = n - 1 - k
				}
				got[g][i] = run(t, p, s, 9, "img", i)
			}
		}()
	}
	wg.Wait()
	for g := range 2 {
		for i := range n {
			if !got[g][i].equal(want[i]) {
				t.Errorf("goroutine %d copy %d differs from the sequential run", g, i)
			}
		}
	}
}

func TestAppliedIsJSON(t *testing.T) {
	p := mustParse(t, everyOp)
	s := personSample(t, 120, 100)
	defer s.Close()
	r := run(t, p, s, 1, "x", 0)
	var back []Applied
	if err := json.Unmarshal([]byte(r.log), &back); err != nil || len(back) == 0 {
		t.Fatalf("manifest %s: %v", r.log, err)
	}
}

func TestSampleValidate(t *testing.T) {
	s := personSample(t, 40, 30)
	defer s.Close()
	bad := s.Clone()
	defer bad.Close()
	bad.Mask.Close()
	bad.Mask = matFrom(t, 41, 30, gocv.MatTypeCV8UC1, make([]byte, 41*30))
	if _, err := mustParse(t, "ops: [fliplr]").Apply(bad, 0, "x", 0); err == nil {
		t.Error("mismatched mask accepted")
	}
	// Zero-value labels are absent labels.
	img := &Sample{Image: s.Image.Clone()}
	defer img.Close()
	if _, err := mustParse(t, everyOp).Apply(img, 0, "x", 0); err != nil {
		t.Errorf("image-only sample: %v", err)
	}
}

func TestOpenCVThreads(t *testing.T) {
	SetOpenCVThreads(1)
	if n := OpenCVThreads(); n != 1 {
		t.Errorf("threads %d after SetOpenCVThreads(1)", n)
	}
	SetOpenCVThreads(0)
	if n := OpenCVThreads(); n < 1 {
		t.Errorf("threads %d after reset", n)
	}
}

package augment

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"gocv.io/x/gocv"
)

// everyOp runs every op with random parameters.
const everyOp = fixture.EveryAugmentOp

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

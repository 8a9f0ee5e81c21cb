//go:build matprofile

package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileScore scores pairs of changing sizes with the package-level
// Score, with one reused Scorer, and through the error paths, and checks
// that gocv's live-Mat count is back where it started: every Mat the
// metrics open is closed. Run with go test -tags matprofile ./eval/.
func TestMatProfileScore(t *testing.T) {
	leaks := matleak.Start(t)
	check := leaks.Check
	rng := rand.New(rand.NewPCG(21, 22))
	sizes := [][2]int{{64, 48}, {17, 5}, {64, 48}, {1, 1}, {120, 90}}
	for i, sz := range sizes {
		if _, err := Score(synthPair(rng, sz[0], sz[1], i%2 == 0, 0.05), DefaultOptions()); err != nil {
			t.Fatal(err)
		}
	}
	check("package-level Score")

	s := NewScorer()
	for i, sz := range sizes {
		if _, err := s.Score(synthPair(rng, sz[0], sz[1], i%2 == 1, 0.05), DefaultOptions()); err != nil {
			t.Fatal(err)
		}
	}
	bad := synthPair(rng, 10, 10, false, 0.05)
	bad.Prob[3] = float32(math.NaN())
	if _, err := s.Score(bad, DefaultOptions()); err == nil {
		t.Error("NaN accepted")
	}
	s.Close()
	check("reused Scorer, closed")

	// A closed Scorer is still usable, and Close twice is harmless.
	if _, err := s.Score(synthPair(rng, 20, 20, true, 0.05), DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	check("Scorer reused after Close")
}

package trimap

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
)

func TestQualityHand(t *testing.T) {
	alpha := grid(
		[]uint8{0, 0, 10, 255},
		[]uint8{0, 200, 128, 255},
	)
	tri := grid(
		[]uint8{0, 128, 128, 255},
		[]uint8{0, 0, 128, 255},
	)
	human := grid(
		[]uint8{0, 0, 128, 255},
		[]uint8{0, 128, 128, 128},
	)
	// Transition pixels: 10, 200, 128; unknown in tri: 10 and 128.
	r, n, err := TransitionRecall(tri, alpha)
	if err != nil || n != 3 || math.Abs(r-2.0/3) > 1e-12 {
		t.Errorf("TransitionRecall = %v, %d, %v; want 2/3, 3", r, n, err)
	}
	a, err := UnknownAreaRatio(tri, human)
	if err != nil || math.Abs(a-3.0/4) > 1e-12 {
		t.Errorf("UnknownAreaRatio = %v, %v; want 3/4", a, err)
	}
	q, err := Evaluate(tri, alpha, human)
	if err != nil || q.Unknown != 3 || q.HumanUnknown != 4 || q.Transition != 3 {
		t.Errorf("Evaluate = %+v, %v", q, err)
	}
	// No transition pixel: recall 1. Empty human unknown area.
	if r, n, _ := TransitionRecall(tri, grid([]uint8{0, 0, 0, 255}, []uint8{0, 0, 255, 255})); r != 1 || n != 0 {
		t.Errorf("no transition: %v %d", r, n)
	}
	empty := grid([]uint8{0, 0, 0, 255}, []uint8{0, 0, 255, 255})
	if a, _ := UnknownAreaRatio(tri, empty); !math.IsInf(a, 1) {
		t.Errorf("empty human unknown: %v", a)
	}
	if a, _ := UnknownAreaRatio(empty, empty); a != 1 {
		t.Errorf("both empty: %v", a)
	}
	if _, _, err := TransitionRecall(tri, NewGray(3, 2)); err == nil {
		t.Error("size mismatch accepted")
	}
}

var dimSamples = []string{"dim0", "dim2", "dim3", "dim4", "dim6", "dim9"}

// TestDimQuality checks the targets on the human-drawn trimaps of
// ../shared/data/dim: the superpixel trimap built from the ground-truth
// alpha keeps >= 99.5 % of the transition pixels unknown on every sample,
// with an unknown area at most 1.5 times the human one on average.
//
// With TRIMAP_PNG_DIR set it also writes, per sample, the trimap, the
// superpixel overlay and the trimap overlay there, to look at.
func TestDimQuality(t *testing.T) {
	dir := shareddata.Dir(t, "data/dim")
	out := os.Getenv("TRIMAP_PNG_DIR")
	sum := 0.0
	for _, name := range dimSamples {
		im, err := ReadImage(filepath.Join(dir, "images", name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		alpha, err := ReadGray(filepath.Join(dir, "alphas", name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		human, err := ReadGray(filepath.Join(dir, "trimaps", name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		sp, err := SLIC(context.Background(), im, SLICOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tri, flag, err := FromLabels(sp, alpha, SuperpixelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		q, err := Evaluate(tri, alpha, human)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d superpixels, transition recall %.4f (%d px), unknown-area ratio %.3f (%d / %d px), flag %v",
			name, sp.N, q.TransitionRecall, q.Transition, q.UnknownAreaRatio, q.Unknown, q.HumanUnknown, flag)
		if q.TransitionRecall < 0.995 {
			t.Errorf("%s: transition recall %.4f < 0.995", name, q.TransitionRecall)
		}
		if flag != FlagNone {
			t.Errorf("%s: flag %v", name, flag)
		}
		sum += q.UnknownAreaRatio

		// The morphological trimap of training code, for comparison.
		mt, _, err := Morphological(alpha, 10, 10)
		if err != nil {
			t.Fatal(err)
		}
		mq, _ := Evaluate(mt, alpha, human)
		t.Logf("%s: morphological w=10: recall %.4f, ratio %.3f", name, mq.TransitionRecall, mq.UnknownAreaRatio)

		if out != "" {
			b, _ := DrawBoundaries(im, sp, [3]uint8{0, 255, 255})
			o, _ := TrimapOverlay(im, tri, [3]uint8{255, 0, 255})
			for _, err := range []error{
				WriteGray(filepath.Join(out, name+"_trimap.png"), tri),
				WriteImage(filepath.Join(out, name+"_superpixels.png"), b),
				WriteImage(filepath.Join(out, name+"_overlay.png"), o),
				WriteGray(filepath.Join(out, name+"_morph.png"), mt),
			} {
				if err != nil {
					t.Error(err)
				}
			}
		}
	}
	mean := sum / float64(len(dimSamples))
	t.Logf("mean unknown-area ratio %.3f", mean)
	if mean > 1.5 {
		t.Errorf("mean unknown-area ratio %.3f > 1.5", mean)
	}
}

package apply

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
)

// readAlpha reads a P3M reference matte as [0, 1] values.
func readAlpha(t *testing.T, path string) []float32 {
	t.Helper()
	b, _, _ := fixture.ReadGray(t, path)
	return AlphaFromBytes(b)
}

// The trimap refinement pulls SINet's edges toward the P3M mattes: the
// mean |alpha error| over the reference's transition pixels (0 < a < 1)
// falls (measured over all transition pixels of the nine: 0.193 for the
// mask, 0.144 refined with the defaults).
func TestTrimapRefineSINetP3M(t *testing.T) {
	p3m := shareddata.Dir(t, "data/p3m")
	pred := testmodel.SINet(t)
	ents, err := os.ReadDir(filepath.Join(p3m, "images"))
	if err != nil {
		t.Fatal(err)
	}
	var errMask, errRefined float64
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !dataset.IsImageFile(e.Name()) {
			continue
		}
		f := filepath.Join(p3m, "images", e.Name())
		img := gocv.IMRead(f, gocv.IMReadColor)
		if img.Empty() {
			t.Fatalf("cannot read %s", f)
		}
		prob, err := pred.Predict(img)
		if err != nil {
			t.Fatal(err)
		}
		ref := readAlpha(t, filepath.Join(p3m, "alphas", strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))+".png"))
		mask, err := Refine(context.Background(), img, prob, RefineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		refined, err := Refine(context.Background(), img, prob, RefineOptions{Trimap: true})
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range ref {
			if g > 0 && g < 1 {
				errMask += math.Abs(float64(mask[i] - g))
				errRefined += math.Abs(float64(refined[i] - g))
				n++
			}
		}
	}
	errMask /= float64(n)
	errRefined /= float64(n)
	t.Logf("mean |alpha error| over %d transition pixels: mask %.4f, trimap-refined %.4f", n, errMask, errRefined)
	if errRefined >= errMask {
		t.Errorf("trimap refinement did not lower the transition error: %.4f -> %.4f", errMask, errRefined)
	}
}

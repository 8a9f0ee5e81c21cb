//go:build matprofile

package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/jobs"
	"gocv.io/x/gocv"
)

// TestMatProfileComposite runs whole Composite jobs (good run, resume, a
// planted bad background, preview) and expects no live Mat after.
func TestMatProfileComposite(t *testing.T) {
	dir := t.TempDir()
	cut := filepath.Join(dir, "cutouts")
	os.MkdirAll(cut, 0o755)
	for i, v := range []float64{255, 128} {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 90, 200, v), 60, 40, gocv.MatTypeCV8UC4)
		gocv.IMWrite(filepath.Join(cut, []string{"a.png", "b.png"}[i]), m)
		m.Close()
	}
	bgDir := filepath.Join(dir, "bg")
	os.MkdirAll(bgDir, 0o755)
	bg := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 50, 70, gocv.MatTypeCV8UC3)
	gocv.IMWrite(filepath.Join(bgDir, "one.png"), bg)
	gocv.IMWrite(filepath.Join(bgDir, "two.jpg"), bg)
	bg.Close()
	os.WriteFile(filepath.Join(bgDir, "bad.jpg"), []byte("not a jpeg"), 0o644)
	leaks := matleak.Start(t)
	out := filepath.Join(dir, "comp")
	for _, resume := range []bool{false, true} {
		_, err := jobs.Composite(context.Background(), jobs.CompositeOptions{Fg: cut, Bg: bgDir, Out: out,
			Composite: composite.Options{Seed: 3, PerFg: 2}, Preview: 2,
			RunOptions: jobs.RunOptions{Workers: 2, Resume: resume},
		})
		if err != nil {
			t.Fatal(err)
		}
		leaks.Check("composite")
	}
}

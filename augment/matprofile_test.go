//go:build matprofile

package augment

import (
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/matleak"
	"gocv.io/x/gocv"
)

// TestMatProfile runs every op, every preset, the contact sheet and Bench
// many times and checks that every Mat they made was closed. Run with
// go test -tags matprofile ./augment/.
func TestMatProfile(t *testing.T) {
	leaks := matleak.Start(t)
	func() {
		s := personSample(t, 120, 100)
		defer s.Close()
		pipelines := []*Pipeline{mustParse(t, everyOp)}
		for _, tc := range geometricCases {
			pipelines = append(pipelines, mustParse(t, tc.yaml))
		}
		files, _ := filepath.Glob("../configs/augment/*.yaml")
		for _, f := range files {
			p, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			pipelines = append(pipelines, p)
		}
		for _, p := range pipelines {
			for i := range 30 {
				c, _ := apply(t, p, s, 5, "leak", i)
				c.Close()
			}
			if _, err := Bench(p, s, 3, 1); err != nil {
				t.Fatal(err)
			}
		}
		sheet, err := ContactSheet(pipelines[0], []*Sample{s}, []string{"s"}, SheetOptions{Copies: 2, Tile: 64})
		if err != nil {
			t.Fatal(err)
		}
		sheet.Close()
		// Failing applies close what they made too.
		bad := s.Clone()
		bad.Mask.Close()
		bad.Mask = gocv.NewMatWithSize(3, 3, gocv.MatTypeCV8UC1)
		if _, err := pipelines[0].Apply(bad, 0, "x", 0); err == nil {
			t.Error("bad sample accepted")
		}
		bad.Close()
	}()
	leaks.Check("augment")
}

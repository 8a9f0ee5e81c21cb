//go:build matprofile

package jobs

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/matleak"
	"gocv.io/x/gocv"
)

// TestMatProfileBuildClips builds a videomatte source with fgr/bgr layers,
// plain, padded to another aspect and cut into crops, with one corrupt fgr
// frame (a reject after the labels were decoded), and checks that every
// Mat, the layers' included, is closed.
func TestMatProfileBuildClips(t *testing.T) {
	src := t.TempDir()
	for k := range 3 {
		n := fmt.Sprintf("%04d", k)
		writeClipFrame(t, filepath.Join(src, "c", "com", n+".png"), filepath.Join(src, "c", "pha", n+".png"), k, uint64(k))
		for _, l := range []string{"fgr", "bgr"} {
			fixture.WriteMat(t, filepath.Join(src, "c", l, n+".png"),
				fixture.Mat(t, clipH, clipW, gocv.MatTypeCV8UC3, fixture.Pseudo(3*clipW*clipH, uint32(k))))
		}
	}
	if err := os.WriteFile(filepath.Join(src, "c", "fgr", "0001.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	leaks := matleak.Start(t)
	for i, o := range []BuildOptions{
		{},
		{Resize: image.Pt(6, 6)},
		{Crops: 2, CropSize: 3},
	} {
		o.Format, o.Src, o.Out, o.Workers = "videomatte", src, filepath.Join(t.TempDir(), "ds"), 2
		sum, err := Build(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rejects != 1 {
			t.Errorf("build %d: %d rejects, want the corrupt fgr's", i, sum.Rejects)
		}
		d, err := dataset.Open(o.Out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dataset.Validate(context.Background(), d, 2, nil); err != nil {
			t.Fatal(err)
		}
		leaks.Check(fmt.Sprintf("build %d", i))
	}
}

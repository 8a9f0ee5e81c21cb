//go:build matprofile

package report

import (
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileGallery draws gallery panels, including ones that fail
// (a missing prediction, a wrong-sized one), and checks that gocv's live
// Mat count is back where it started. Run with go test -tags matprofile.
func TestMatProfileGallery(t *testing.T) {
	newDir, _ := reportFixture(t)
	run := mustLoad(t, newDir)
	items, err := Worst(run, 4, "dice")
	if err != nil {
		t.Fatal(err)
	}
	// Break two predictions: one gone, one the wrong size.
	os.Remove(filepath.Join(newDir, "preds", items[1].ID+".png"))
	small := gocv.NewMatWithSize(5, 5, gocv.MatTypeCV8U)
	gocv.IMWrite(filepath.Join(newDir, "preds", items[2].ID+".png"), small)
	small.Close()

	leaks := matleak.Start(t)
	g := &Gallery{Run: run.Name, By: "dice", Items: items}
	if err := drawGallery(t.TempDir(), run, g); err != nil {
		t.Fatal(err)
	}
	if g.Items[0].Panel == "" || g.Items[1].Note == "" || g.Items[2].Note == "" {
		t.Errorf("gallery %+v: want a panel, then two notes", g.Items)
	}
	leaks.Check("gallery")
}

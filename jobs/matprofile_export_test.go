//go:build matprofile

package jobs

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileExport exports good, corrupt and wrong-size planes and
// checks that Export closed every gocv.Mat it opened.
func TestMatProfileExport(t *testing.T) {
	pf, _ := exportDamaged(t)
	leaks := matleak.Start(t)
	if _, err := Export(context.Background(), ExportOptions{Dataset: pf, Format: ExportFormatCOCO, Out: filepath.Join(t.TempDir(), "c.json")}); err != nil {
		t.Fatal(err)
	}
	leaks.Check("Export")
}

//go:build matprofile

package jobs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/trimap"
)

// TestMatProfileTrimap runs Trimap, both methods with the report, over
// good samples, flat mattes and bad inputs (corrupt, missing, wrong size),
// and checks that it closed every gocv.Mat it opened.
func TestMatProfileTrimap(t *testing.T) {
	dir := trimapSyntheticDataset(t, 6, []string{"s1"}, []string{"s2"})
	os.WriteFile(filepath.Join(dir, "alphas", "s3.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	os.Remove(filepath.Join(dir, "images", "s4.png"))
	if err := trimap.WriteGray(filepath.Join(dir, "alphas", "s5.png"), trimap.NewGray(9, 9)); err != nil {
		t.Fatal(err)
	}
	leaks := matleak.Start(t)
	for _, o := range []TrimapOptions{
		{Dataset: dir, Report: true, Workers: 2},
		{Dataset: dir, Report: true, Workers: 2}, // up to date: reads the trimaps back for the report
		{Dataset: dir, Method: TrimapMethodErode, Morph: trimap.MorphOptions{MinWidth: 1, MaxWidth: 9, Seed: 3}, OutDir: "trimaps-morph", Report: true},
	} {
		if _, err := Trimap(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		leaks.Check("Trimap " + o.Method + " " + o.OutDir)
	}
}

//go:build matprofile

package eval_test

import (
	"context"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileTiledContext: a context-tiled run, whose band tiles are
// cut in the finish stage from the kept image, closes every Mat it opens.
func TestMatProfileTiledContext(t *testing.T) {
	needORT(t)
	cfg, _ := cornerConfig(t)
	leaks := matleak.Start(t)
	if _, err := eval.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	leaks.Check("context-tiled eval")
}

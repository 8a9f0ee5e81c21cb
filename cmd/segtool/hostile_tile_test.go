package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTileModeFlag: --tile-mode takes context (the default with --tile) or
// plain; plain warns that tiles lack context; the mode is in results.json
// and in the resume key, so a run is not resumed under the other mode.
func TestTileModeFlag(t *testing.T) {
	model, ds := evalFixture(t)
	base := []string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--tile", "64x80", "--overlap", "8"}

	code, out := run(t, append(base, "--out", filepath.Join(t.TempDir(), "run"), "--tile-mode", "sideways")...)
	if code != 2 || !strings.Contains(out, "--tile-mode") || !strings.Contains(out, "want context or plain") {
		t.Errorf("--tile-mode sideways: exit %d, want 2 naming the flag and its values: %s", code, out)
	}

	plain := filepath.Join(t.TempDir(), "run")
	code, out = run(t, append(base, "--out", plain, "--tile-mode", "plain")...)
	if code != 0 || !strings.Contains(flat(out), "--tile-mode plain: each tile is predicted without the rest of the image") {
		t.Errorf("--tile-mode plain: exit %d, want 0 with a warning: %s", code, out)
	}
	if r := readResults(t, plain); r.Options.TileMode != "plain" {
		t.Errorf("plain: results.json tile_mode %q", r.Options.TileMode)
	}

	ctx := filepath.Join(t.TempDir(), "run")
	code, out = run(t, append(base, "--out", ctx)...)
	if code != 0 || strings.Contains(out, "--tile-mode plain") {
		t.Errorf("default mode: exit %d, want 0 and no warning: %s", code, out)
	}
	if r := readResults(t, ctx); r.Options.TileMode != "context" {
		t.Errorf("default: results.json tile_mode %q, want context", r.Options.TileMode)
	}
	code, out = run(t, append(base, "--out", ctx, "--resume", "--tile-mode", "plain")...)
	if code != 2 || !strings.Contains(out, "tile_mode") {
		t.Errorf("resume under another tile mode: exit %d, want 2 naming tile_mode: %s", code, out)
	}
}

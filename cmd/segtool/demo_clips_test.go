package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
)

// TestDemoClipsToDataset runs the README's clip path: demo-data --video
// twice with one seed (identical PNGs), then build-dataset on the
// videomatte layout, whose rows carry clip and frame and keep each clip in
// one split; and the usage errors of the clip flags.
func TestDemoClipsToDataset(t *testing.T) {
	dir := t.TempDir()
	for _, out := range []string{"a", "b"} {
		if code, text := run(t, "--quiet", "demo-data", "--video", "--out", filepath.Join(dir, out),
			"--count", "2", "--frames", "4", "--size", "64x64", "--seed", "5"); code != 0 {
			t.Fatalf("demo-data --video: exit %d: %s", code, text)
		}
	}
	for _, rel := range []string{"clip_000/com/0000.png", "clip_001/pha/0003.png", "clip_001/fgr/0002.png", "clip_000/bgr/0001.png"} {
		a, err1 := os.ReadFile(filepath.Join(dir, "a", "videomatte", rel))
		b, err2 := os.ReadFile(filepath.Join(dir, "b", "videomatte", rel))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: not byte-identical for one seed (%v, %v)", rel, err1, err2)
		}
	}
	ds := filepath.Join(dir, "ds")
	if code, text := run(t, "--quiet", "build-dataset", "--src", filepath.Join(dir, "a", "videomatte"), "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, text)
	}
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	if d.Info.Format != "videomatte" || len(d.Samples) != 8 {
		t.Fatalf("format %s, %d rows; want videomatte, 8", d.Info.Format, len(d.Samples))
	}
	split := map[string]string{}
	for i, s := range d.Samples {
		wantClip := []string{"clip_000", "clip_001"}[i/4]
		if s.Clip != wantClip || s.Frame == nil || *s.Frame != i%4 {
			t.Errorf("%s: clip %q frame %v, want %s %d", s.ID, s.Clip, s.Frame, wantClip, i%4)
		}
		if prev, ok := split[s.Clip]; ok && prev != s.Split {
			t.Errorf("clip %s in %s and %s", s.Clip, prev, s.Split)
		}
		split[s.Clip] = s.Split
	}
	for _, bad := range [][]string{
		{"demo-data", "--out", filepath.Join(dir, "c"), "--frames", "4"},
		{"demo-data", "--video", "--out", filepath.Join(dir, "c"), "--count", "0"},
		{"demo-data", "--video", "--out", filepath.Join(dir, "c"), "--frames", "0"},
		{"demo-data", "--video", "--out", filepath.Join(dir, "a")},
	} {
		if code, text := run(t, bad...); code != 2 || !strings.Contains(text, "--") {
			t.Errorf("%v: exit %d, want 2 naming a flag: %s", bad, code, text)
		}
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Video through the command line: a clip from an image sequence of the
// demo portraits (written by apply itself), then every effect on that
// clip; the summary's figures, the refusals and their exit codes.
func TestApplyVideoCommand(t *testing.T) {
	model, images := applyFixture(t)
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.mp4")
	seq := filepath.Join(images, "portrait_%04d.jpg")
	code, text := applyRun(t, "--model", model, "--size", "64x80", "--in", seq, "--out", clip, "--fps", "10")
	if code != 0 {
		t.Fatalf("apply on an image sequence: exit %d: %s", code, text)
	}
	// An image sequence is a file: on the CPU two model calls at once, of
	// half the cores each (jobs.VideoCalls).
	calls := fmt.Sprintf("(2 model calls at once, %d thread", runtime.NumCPU()/2)
	if runtime.NumCPU() < 2 {
		calls = "(1 model call at a time, 1 thread)"
	}
	for _, want := range []string{"3 frames written (blur)", "at 10 fps", "frames/s", calls, "decode", "infer", "effect", "encode", "No audio written"} {
		if !strings.Contains(flat(text), want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	out := filepath.Join(dir, "fx")
	bg := filepath.Join(images, "portrait_0000.jpg")
	strip := filepath.Join(dir, "strip.jpg")
	code, text = applyRun(t, "--model", model, "--size", "64x80", "--in", clip, "--out", out, "--effect", "all", "--bg", bg, "--temporal-ema", "0.5",
		"--sheet", strip, "--sheet-rows", "2")
	if code != 0 {
		t.Fatalf("apply on the clip: exit %d: %s", code, text)
	}
	if !strings.Contains(flat(text), "Before/after strip: "+strip) {
		t.Errorf("summary lacks the strip:\n%s", text)
	}
	if _, err := os.Stat(strip); err != nil {
		t.Errorf("strip: %v", err)
	}
	for _, e := range []string{"blur", "replace", "cutout", "matte"} {
		if _, err := os.Stat(filepath.Join(out, e, "clip.mp4")); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	bad := filepath.Join(dir, "bad.mkv")
	if err := os.WriteFile(bad, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--in", clip, "--out", out, "--effect", "all", "--bg", bg}, 2, "--force"},
		{[]string{"--in", bad, "--out", filepath.Join(dir, "o.mp4")}, 1, "bad.mkv as video (backends tried: FFMPEG, ANY)"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--temporal", "ema"}, 2, "--temporal"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--temporal", "ema:0.5", "--temporal-ema", "0.5"}, 2, "--temporal-ema"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--effect", "blur,matte"}, 2, "--out"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--sheet", "s.gif"}, 2, "--sheet"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--sheet", "s.png", "--sheet-rows", "-1"}, 2, "--sheet-rows"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--calls", "0"}, 2, "--calls"},
		{[]string{"--in", clip, "--out", filepath.Join(dir, "t.mp4"), "--calls", strconv.Itoa(runtime.NumCPU() + 1)}, 2, "--calls"},
	} {
		code, text := applyRun(t, append([]string{"--model", model, "--size", "64x80"}, tc.args...)...)
		if code != tc.code || !strings.Contains(flat(text), tc.want) {
			t.Errorf("apply %s: exit %d, %q; want exit %d and %q", strings.Join(tc.args, " "), code, text, tc.code, tc.want)
		}
	}
}

// bench video draws its clip, runs every frame of it and sets apply's
// frames/s against the bare model's images/s.
func TestBenchVideo(t *testing.T) {
	needORT(t)
	code, text := run(t, "bench", "video", "--model", oracleModel(t), "--size", "64x48", "--frame-size", "64x48", "--frames", "6", "--rounds", "2", "-n", "3")
	if code != 0 {
		t.Fatalf("bench video: exit %d: %s", code, text)
	}
	for _, want := range []string{"6 frames 64x48", "2 rounds", "frames/s", "model call", "images/s", "per round", "decode", "encode"} {
		if !strings.Contains(flat(text), want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	code, text = run(t, "bench", "video", "--model", oracleModel(t), "--size", "64x48", "--calls", "0")
	if code != 2 || !strings.Contains(text, "--calls") {
		t.Errorf("bench video --calls 0: exit %d, %q; want exit 2 naming --calls", code, text)
	}
}

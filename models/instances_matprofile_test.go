//go:build matprofile

package models

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/models/onnxbuild"
)

// TestMatProfileInstances runs the toy instance model's Predict down its
// paths (own size, --size, zero detections, a grey image) and checks that
// every Mat it opens is closed.
func TestMatProfileInstances(t *testing.T) {
	if _, err := LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	data, err := onnxbuild.ToyInstances()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "maskrcnn_toy.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ResolveSpec(SpecRequest{Model: path, Spec: "maskrcnn-toy"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, r.Spec, SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	px := make([]uint8, 3*16*12)
	for i := 2; i < len(px); i += 9 {
		px[i] = 200
	}
	img := bgrMat(t, 16, 12, px...)
	defer img.Close()
	black := bgrMat(t, 16, 12, make([]uint8, 3*16*12)...)
	defer black.Close()
	grey := gocv.NewMatWithSize(12, 16, gocv.MatTypeCV8UC1)
	defer grey.Close()

	leaks := matleak.Start(t)
	for _, c := range []struct {
		step    string
		m       gocv.Mat
		size    image.Point
		wantErr bool
	}{
		{"own size", img, image.Point{}, false},
		{"resized", img, image.Pt(8, 6), false},
		{"no detections", black, image.Pt(8, 6), false},
		{"grey image", grey, image.Point{}, true},
	} {
		if _, err := NewInstancePredictor(s, c.size).Predict(c.m); (err != nil) != c.wantErr {
			t.Errorf("%s: error %v", c.step, err)
		}
		leaks.Check(c.step)
	}
}

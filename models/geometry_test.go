package models

import (
	"testing"
)

func TestPlace(t *testing.T) {
	for _, c := range []struct {
		fit                    Fit
		srcW, srcH, inW, inH   int
		wantX, wantY, wantW, h int
	}{
		{FitResize, 1920, 1080, 800, 600, 0, 0, 800, 600},
		{"", 1920, 1080, 800, 600, 0, 0, 800, 600},
		// 1920x1080 into 800x600: scale min(800/1920, 600/1080) = 5/12,
		// 1080*5/12 = 450 high, (600-450)/2 = 75 down.
		{FitLetterbox, 1920, 1080, 800, 600, 0, 75, 800, 450},
		// 100x200 into 320x320: scale min(3.2, 1.6) = 1.6 -> 160x320 at x 80.
		{FitLetterbox, 100, 200, 320, 320, 80, 0, 160, 320},
		// 3x1 into 4x4: scale 4/3 -> 4 x round(1.33) = 1, y (4-1)/2 = 1.
		{FitLetterbox, 3, 1, 4, 4, 0, 1, 4, 1},
		// pad: unscaled and centred, (128-100)/2 = 14, (128-50)/2 = 39.
		{FitPad, 100, 50, 128, 128, 14, 39, 100, 50},
		// pad of an image larger than the input letterboxes it.
		{FitPad, 640, 320, 320, 320, 0, 80, 320, 160},
	} {
		p := Place(c.fit, c.srcW, c.srcH, c.inW, c.inH)
		want := Placement{SrcW: c.srcW, SrcH: c.srcH, InW: c.inW, InH: c.inH, X: c.wantX, Y: c.wantY, W: c.wantW, H: c.h}
		if p != want {
			t.Errorf("%s %dx%d into %dx%d: %+v, want %+v", c.fit, c.srcW, c.srcH, c.inW, c.inH, p, want)
		}
	}
	for _, s := range []string{"", "resize", "letterbox", "pad"} {
		if _, err := ParseFit(s); err != nil {
			t.Errorf("ParseFit(%q): %v", s, err)
		}
	}
	if _, err := ParseFit("stretch"); err == nil {
		t.Error("ParseFit(stretch): no error")
	}
}

func TestRestore(t *testing.T) {
	// 2x1 plane [0, 1] to 4x1 with OpenCV linear (half-pixel centres,
	// edges clamped): source x = (x+0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
	got, err := Restore([]float32{0, 1}, Place(FitResize, 4, 1, 2, 1), 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "upsampled", got, []float32{0, 0.25, 0.75, 1})

	// Letterbox: a 4x2 image in rows 1-2 of a 4x4 input comes back as
	// exactly those rows.
	plane := []float32{
		9, 9, 9, 9,
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 9, 9, 9,
	}
	p := Place(FitLetterbox, 4, 2, 4, 4)
	got, err = Restore(plane, p, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "letterbox crop", got, []float32{1, 2, 3, 4, 5, 6, 7, 8})

	// Letterbox then downsample by 2 in x: 8x2 image at 4x1 in a 4x4 input
	// (rows 1..1), restored to 8x2: a 1-row crop upsampled to 2 rows and
	// 4 columns to 8.
	p = Place(FitLetterbox, 8, 2, 4, 4)
	if p.Y != 1 || p.H != 1 || p.W != 4 {
		t.Fatalf("placement %+v", p)
	}
	got, err = Restore(plane, p, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Columns: source x = (x+0.5)/2-0.5 -> -0.25 (clamped 0), 0.25, 0.75, ...
	row := []float32{1, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4}
	equal(t, "letterbox restore", got, append(append([]float32{}, row...), row...))

	if _, err := Restore(plane[:15], p, 8, 2); err == nil {
		t.Error("short plane: no error")
	}
	if _, err := Restore(plane, p, 0, 2); err == nil {
		t.Error("empty target: no error")
	}
}

// BenchmarkRestore800x600To1080p restores an 800x600 plane to 1920x1080.
func BenchmarkRestore800x600To1080p(b *testing.B) {
	prob := make([]float32, 800*600)
	for i := range prob {
		prob[i] = float32(i%256) / 255
	}
	p := Place(FitResize, 1920, 1080, 800, 600)
	b.ResetTimer()
	for range b.N {
		if _, err := Restore(prob, p, 1920, 1080); err != nil {
			b.Fatal(err)
		}
	}
}

package trimap

import (
	"image"
	"slices"
	"testing"
)

func TestDrawBoundaries(t *testing.T) {
	im := Image{W: 3, H: 2, Pix: make([]uint8, 18)}
	sp := &Superpixels{W: 3, H: 2, N: 2, Labels: []int32{
		0, 0, 1,
		0, 0, 1,
	}}
	got, err := DrawBoundaries(im, sp, [3]uint8{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	// Only (1,0) and (1,1) have a right neighbour with another label.
	want := []uint8{
		0, 0, 0, 1, 2, 3, 0, 0, 0,
		0, 0, 0, 1, 2, 3, 0, 0, 0,
	}
	if !slices.Equal(got.Pix, want) {
		t.Errorf("got %v, want %v", got.Pix, want)
	}
	if im.Pix[3] != 0 {
		t.Error("input modified")
	}
	if _, err := DrawBoundaries(im, &Superpixels{W: 2, H: 2}, [3]uint8{}); err == nil {
		t.Error("size mismatch accepted")
	}
}

func TestTrimapOverlay(t *testing.T) {
	im := Image{W: 3, H: 1, Pix: []uint8{90, 90, 90, 90, 90, 90, 90, 90, 90}}
	got, err := TrimapOverlay(im, Gray{W: 3, H: 1, Pix: []uint8{0, 128, 255}}, [3]uint8{10, 10, 10})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{30, 30, 30, 50, 50, 50, 90, 90, 90}; !slices.Equal(got.Pix, want) {
		t.Errorf("got %v, want %v", got.Pix, want)
	}
}

// TestMatRoundTrip covers the Mat boundary, including a region of interest
// (a Mat that is not continuous).
func TestMatRoundTrip(t *testing.T) {
	im := syntheticImage(7, 5, 2)
	m, err := im.Mat()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	back, err := ImageFromMat(m)
	if err != nil || !slices.Equal(back.Pix, im.Pix) {
		t.Fatalf("round trip: %v", err)
	}
	roi := m.Region(image.Rect(2, 1, 6, 4))
	defer roi.Close()
	sub, err := ImageFromMat(roi)
	if err != nil {
		t.Fatal(err)
	}
	if sub.W != 4 || sub.H != 3 || !slices.Equal(sub.Pix[:3], im.Pix[3*(1*7+2):3*(1*7+2)+3]) ||
		!slices.Equal(sub.Pix[3*4*2:3*4*2+3], im.Pix[3*(3*7+2):3*(3*7+2)+3]) {
		t.Errorf("region of interest copied wrongly: %dx%d", sub.W, sub.H)
	}
	g := Gray{W: 3, H: 2, Pix: []uint8{1, 2, 3, 4, 5, 6}}
	gm, err := g.Mat()
	if err != nil {
		t.Fatal(err)
	}
	defer gm.Close()
	groi := gm.Region(image.Rect(1, 0, 3, 2))
	defer groi.Close()
	gs, err := GrayFromMat(groi)
	if err != nil || !slices.Equal(gs.Pix, []uint8{2, 3, 5, 6}) {
		t.Errorf("gray region: %v %v", gs.Pix, err)
	}
}

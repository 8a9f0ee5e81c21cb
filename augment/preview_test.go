package augment

import (
	"testing"

	"gocv.io/x/gocv"
)

func TestContactSheet(t *testing.T) {
	a, b := personSample(t, 240, 200), textureSample(t, 100, 300)
	defer a.Close()
	defer b.Close()
	p := mustParse(t, "ops: [fliplr, {affine: {rotate: [-20, 20]}}]")
	sheet, err := ContactSheet(p, []*Sample{a, b}, []string{"a", "b"}, SheetOptions{Copies: 2, Tile: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	if sheet.Rows() != 2*128 || sheet.Cols() != 3*128 || sheet.Type() != gocv.MatTypeCV8UC3 {
		t.Fatalf("sheet %dx%d %v", sheet.Cols(), sheet.Rows(), sheet.Type())
	}
	// The outline is drawn in pure green somewhere.
	px := bytesOf(t, &sheet)
	green := 0
	for i := 0; i < len(px); i += 3 {
		if px[i] == 0 && px[i+1] == 255 && px[i+2] == 0 {
			green++
		}
	}
	if green < 100 {
		t.Errorf("only %d outline pixels", green)
	}
	if _, err := ContactSheet(p, []*Sample{a}, nil, SheetOptions{}); err == nil {
		t.Error("ids mismatch accepted")
	}
}

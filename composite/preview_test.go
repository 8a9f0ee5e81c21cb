package composite

import (
	"testing"

	"gocv.io/x/gocv"
)

func TestContactSheet(t *testing.T) {
	fg := opaque(t, 20, 10)
	bg := mustBg(t, 10, 20, gocv.MatTypeCV8UC3, pseudo(600, 1))
	a := mustComposite(t, fg, nil, bg, 0, Options{})
	b := mustComposite(t, fg, nil, bg, 1, Options{Width: 10, Height: 20})
	sheet, err := ContactSheet([]*Result{a, b}, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	// Columns 80 and 20 wide plus one gap; image, gap, alpha high.
	if sheet.Cols() != 80+2+20 || sheet.Rows() != 40+2+40 || sheet.Type() != gocv.MatTypeCV8UC3 {
		t.Errorf("sheet %dx%d %v", sheet.Cols(), sheet.Rows(), sheet.Type())
	}
	if m, err := ContactSheet(nil, 40); err == nil {
		t.Error("empty sheet accepted")
	} else {
		m.Close()
	}
}

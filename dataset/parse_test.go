package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"testing"

	"gocv.io/x/gocv"
)

func TestParsePASCALBoxes(t *testing.T) {
	// Lines as in the Penn-Fudan release (FudanPed00001.txt), 1-based.
	text := `# Compatible with PASCAL Annotation Version 1.00
Image size (X x Y x C) : 559 x 536 x 3
Objects with ground truth : 2 { "PASpersonWalking" "PASpersonWalking" }
Bounding box for object 2 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (420, 171) - (535, 486)
Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (160, 182) - (302, 431)
`
	got, err := ParsePASCALBoxes([]byte(text))
	want := [][4]float64{{159, 181, 301, 430}, {419, 170, 534, 485}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	if _, err := ParsePASCALBoxes([]byte("Bounding box for object 1 : garbage")); err == nil {
		t.Error("unparseable box line accepted")
	}
}

func TestID(t *testing.T) {
	for in, want := range map[string]string{
		"00001.png":                           "00001",
		"1803151818/clip_00000000/a-b.jpg":    "1803151818_clip_00000000_a-b",
		"training/00001.png":                  "training_00001",
		"odd name (1).jpeg":                   "odd-name--1-",
		"./x/../y.v2.png":                     "y.v2",
		`sub\dir\file.jpg`:                    "sub_dir_file",
		"unicodé.png":                         "unicod--",
		"FudanPed00001.png":                   "FudanPed00001",
		"clip_img/../clip_img/x/clip_0/n.jpg": "clip_img_x_clip_0_n",
	} {
		if got := ID(in); got != want {
			t.Errorf("ID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitFor(t *testing.T) {
	r := Ratios{0.8, 0.1, 0.1}
	if got := SplitFor("x", "test", r, 0.5, 1); got != "test" {
		t.Errorf("official test split changed to %s", got)
	}
	counts := map[string]int{}
	moved := 0
	for i := 0; i < 10000; i++ {
		id := ID(string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
		counts[SplitFor(id, "", r, 0, 7)]++
		if SplitFor(id, "train", r, 0.15, 7) == "val" {
			moved++
		}
	}
	// 10000 draws: the shares lie within 4 standard deviations.
	for sp, want := range map[string]float64{"train": 0.8, "val": 0.1, "test": 0.1} {
		if got := float64(counts[sp]) / 10000; got < want-0.017 || got > want+0.017 {
			t.Errorf("share of %s = %.3f, want about %.2f", sp, got, want)
		}
	}
	if f := float64(moved) / 10000; f < 0.135 || f > 0.165 {
		t.Errorf("--val-from-train 0.15 moved %.3f of train", f)
	}
	if _, err := ParseRatios("0.8,0.1"); err == nil {
		t.Error("two ratios accepted")
	}
	if _, err := ParseRatios("0.8,0.3,0.1"); err == nil {
		t.Error("ratios summing to 1.2 accepted")
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeConversions checks each odd input kind against hand-made
// 2x1 images.
func TestDecodeConversions(t *testing.T) {
	bgr := func(m gocv.Mat) []byte { defer m.Close(); return append([]byte(nil), m.ToBytes()...) }

	grey := image.NewGray(image.Rect(0, 0, 2, 1))
	grey.Pix = []byte{10, 200}
	m, _, notes, err := (Decoder{}).RGB("g.png", encodePNG(t, grey))
	if err != nil || !reflect.DeepEqual(bgr(m), []byte{10, 10, 10, 200, 200, 200}) || len(notes) != 1 {
		t.Errorf("grey: %v %v", err, notes)
	}

	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 65535})
	g16.SetGray16(1, 0, color.Gray16{Y: 257 * 100})
	m, _, notes, err = (Decoder{}).RGB("g16.png", encodePNG(t, g16))
	if err != nil || !reflect.DeepEqual(bgr(m), []byte{255, 255, 255, 100, 100, 100}) || len(notes) != 2 {
		t.Errorf("16-bit grey: %v %v", err, notes)
	}

	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{30, 20, 10, 255}})
	pal.Pix = []byte{1, 0}
	m, _, notes, err = (Decoder{}).RGB("p.png", encodePNG(t, pal))
	if err != nil || !reflect.DeepEqual(bgr(m), []byte{10, 20, 30, 3, 2, 1}) || len(notes) != 1 {
		t.Errorf("palette: %v %v", err, notes)
	}
	lab, palette, _, err := (Decoder{}).Label("p.png", encodePNG(t, pal))
	if err != nil || !palette || !reflect.DeepEqual(bgr(lab), []byte{1, 0}) {
		t.Errorf("palette label keeps indices: %v %v", err, palette)
	}

	opaque := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	opaque.Pix = []byte{1, 2, 3, 255, 4, 5, 6, 255}
	m, _, _, err = (Decoder{}).RGB("o.png", encodePNG(t, opaque))
	if err != nil || !reflect.DeepEqual(bgr(m), []byte{3, 2, 1, 6, 5, 4}) {
		t.Errorf("opaque RGBA: %v", err)
	}
	opaque.Pix[7] = 128
	if _, _, _, err = (Decoder{}).RGB("t.png", encodePNG(t, opaque)); err == nil {
		t.Error("RGBA with transparency accepted as RGB")
	}

	colour := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	colour.Pix = []byte{255, 0, 0, 255, 0, 0, 0, 255}
	if _, _, _, err = (Decoder{}).Label("c.png", encodePNG(t, colour)); err == nil {
		t.Error("colour label accepted")
	}
	if _, _, _, err = (Decoder{}).RGB("x.txt", []byte("hello")); err == nil {
		t.Error("text accepted as an image")
	}
}

func TestHasExif(t *testing.T) {
	app0 := []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	app1 := []byte{0xFF, 0xE1, 0x00, 0x0C, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42}
	sos := []byte{0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9}
	soi := []byte{0xFF, 0xD8}
	with := append(append(append(append([]byte(nil), soi...), app0...), app1...), sos...)
	without := append(append(append([]byte(nil), soi...), app0...), sos...)
	if !hasExif(with) || hasExif(without) {
		t.Errorf("hasExif: with %v, without %v", hasExif(with), hasExif(without))
	}
}

func TestCheckComplete(t *testing.T) {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 120, 200, 0), 40, 60, gocv.MatTypeCV8UC3)
	defer m.Close()
	for _, ext := range []gocv.FileExt{gocv.JPEGFileExt, gocv.PNGFileExt} {
		b := gocvEncode(t, ext, m)
		if err := CheckComplete(b); err != nil {
			t.Errorf("%s: complete file refused: %v", ext, err)
		}
		if CheckComplete(b[:len(b)-20]) == nil {
			t.Errorf("%s: file cut 20 bytes short accepted", ext)
		}
		if ext == gocv.JPEGFileExt {
			// Some cameras append data after the end-of-image marker.
			if err := CheckComplete(append(append([]byte(nil), b...), "trailer data"...)); err != nil {
				t.Errorf("JPEG with a trailer refused: %v", err)
			}
		}
	}
}

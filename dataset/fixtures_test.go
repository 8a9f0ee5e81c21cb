package dataset

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/matfile"
	"gocv.io/x/gocv"
)

// realSample is one real photo with a person mask (0/255, derived in the
// test from the source's own labels) and, for p3m, its alpha.
type realSample struct {
	name  string
	img   gocv.Mat // BGR
	mask  []byte   // 0/255, row-major
	alpha []byte   // 0..255, nil when none
	w, h  int
}

// loadPeopleParts reads the hand-labelled people-parts photos; person =
// palette index > 0, read with Go's image/png (an independent decoder).
func loadPeopleParts(t *testing.T) []realSample {
	t.Helper()
	dir := shareddata.Dir(t, "data/people-parts")
	names, _ := filepath.Glob(filepath.Join(dir, "images", "*.png"))
	sort.Strings(names)
	var out []realSample
	for _, n := range names {
		stem := strings.TrimSuffix(filepath.Base(n), ".png")
		img := gocv.IMRead(n, gocv.IMReadColor)
		f, err := os.Open(filepath.Join(dir, "labels", stem+".png"))
		if err != nil {
			t.Fatal(err)
		}
		lab, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := lab.(*image.Paletted)
		w, h := p.Bounds().Dx(), p.Bounds().Dy()
		mask := make([]byte, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if p.Pix[y*p.Stride+x] > 0 {
					mask[y*w+x] = 255
				}
			}
		}
		out = append(out, realSample{name: stem, img: img, mask: mask, w: w, h: h})
	}
	t.Cleanup(func() {
		for _, s := range out {
			s.img.Close()
		}
	})
	return out
}

// loadP3M reads the p3m portraits and their mattes at a quarter size (to
// keep tests quick); mask = alpha >= 128, computed here.
func loadP3M(t *testing.T, n int) []realSample {
	t.Helper()
	dir := shareddata.Dir(t, "data/p3m")
	names, _ := filepath.Glob(filepath.Join(dir, "images", "*.jpg"))
	sort.Strings(names)
	var out []realSample
	for _, name := range names[:min(n, len(names))] {
		stem := strings.TrimSuffix(filepath.Base(name), ".jpg")
		full := gocv.IMRead(name, gocv.IMReadColor)
		a := gocv.IMRead(filepath.Join(dir, "alphas", stem+".png"), gocv.IMReadGrayScale)
		sz := image.Pt(full.Cols()/4, full.Rows()/4)
		img, small := gocv.NewMat(), gocv.NewMat()
		gocv.Resize(full, &img, sz, 0, 0, gocv.InterpolationArea)
		gocv.Resize(a, &small, sz, 0, 0, gocv.InterpolationArea)
		alpha := append([]byte(nil), small.ToBytes()...)
		full.Close()
		a.Close()
		small.Close()
		mask := make([]byte, len(alpha))
		for i, v := range alpha {
			if v >= 128 {
				mask[i] = 255
			}
		}
		out = append(out, realSample{name: stem, img: img, mask: mask, alpha: alpha, w: sz.X, h: sz.Y})
	}
	t.Cleanup(func() {
		for _, s := range out {
			s.img.Close()
		}
	})
	return out
}

func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func writeMat(t *testing.T, path string, m gocv.Mat) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if !gocv.IMWrite(path, m) {
		t.Fatalf("IMWrite %s failed", path)
	}
}

// writePlane writes a one-channel plane as an 8-bit grey PNG with Go's
// encoder.
func writePlane(t *testing.T, path string, px []byte, w, h int) {
	t.Helper()
	g := &image.Gray{Pix: px, Stride: w, Rect: image.Rect(0, 0, w, h)}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeRGBA(t *testing.T, path string, img gocv.Mat, alpha []byte) {
	t.Helper()
	a, _ := gocv.NewMatFromBytes(img.Rows(), img.Cols(), gocv.MatTypeCV8UC1, alpha)
	defer a.Close()
	chans := gocv.Split(img)
	chans = append(chans, a)
	rgba := gocv.NewMat()
	defer rgba.Close()
	gocv.Merge(chans, &rgba)
	for _, c := range chans[:3] {
		c.Close()
	}
	writeMat(t, path, rgba)
}

// plantTruncatedJPEG writes the first third of a JPEG encoding of img.
func plantTruncatedJPEG(t *testing.T, path string, img gocv.Mat) {
	t.Helper()
	buf, err := gocv.IMEncode(gocv.JPEGFileExt, img)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), buf.GetBytes()...)
	buf.Close()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
}

func plantAppleDouble(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	// An AppleDouble header: magic 0x00051607, version 0x00020000.
	if err := os.WriteFile(path, []byte("\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "), 0o644); err != nil {
		t.Fatal(err)
	}
}

// instanceIDs splits a 0/255 mask into two instances by column: pixels
// left of the middle get id 1, the rest id 2, so the fixture has more than
// one pedestrian. It returns the ids and each instance's 1-based box.
func instanceIDs(mask []byte, w, h int) ([]byte, [][4]int) {
	ids := make([]byte, len(mask))
	boxes := [][4]int{{1 << 30, 1 << 30, -1, -1}, {1 << 30, 1 << 30, -1, -1}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if mask[y*w+x] == 0 {
				continue
			}
			id := 1
			if x >= w/2 {
				id = 2
			}
			ids[y*w+x] = byte(id)
			b := &boxes[id-1]
			b[0], b[1] = min(b[0], x+1), min(b[1], y+1)
			b[2], b[3] = max(b[2], x+1), max(b[3], y+1)
		}
	}
	return ids, boxes
}

func pascalAnnotation(stem string, w, h int, boxes [][4]int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Compatible with PASCAL Annotation Version 1.00\nImage filename : \"PennFudanPed/PNGImages/%s.png\"\n", stem)
	fmt.Fprintf(&b, "Image size (X x Y x C) : %d x %d x 3\nDatabase : \"The Penn-Fudan-Pedestrian Database\"\n", w, h)
	fmt.Fprintf(&b, "Objects with ground truth : %d { \"PASpersonWalking\" \"PASpersonWalking\" }\n", len(boxes))
	b.WriteString("# Top left pixel co-ordinates : (1, 1)\n")
	for i, bx := range boxes {
		fmt.Fprintf(&b, "# Details for pedestrian %d (\"PASpersonWalking\")\n", i+1)
		fmt.Fprintf(&b, "Original label for object %d \"PASpersonWalking\" : \"PennFudanPed\"\n", i+1)
		fmt.Fprintf(&b, "Bounding box for object %d \"PASpersonWalking\" (Xmin, Ymin) - (Xmax, Ymax) : (%d, %d) - (%d, %d)\n", i+1, bx[0], bx[1], bx[2], bx[3])
		fmt.Fprintf(&b, "Pixel mask for object %d \"PASpersonWalking\" : \"PennFudanPed/PedMasks/%s_mask.png\"\n\n", i+1, stem)
	}
	return b.String()
}

func writeMATMask(t *testing.T, path string, mask []byte, w, h int) {
	t.Helper()
	// MATLAB stores column-major: element (r, c) at c*h + r.
	data := make([]float64, w*h)
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			if mask[r*w+c] > 0 {
				data[c*h+r] = 1
			}
		}
	}
	writeMATVar(t, path, &matfile.Matrix{Name: "mask", Class: matfile.ClassUint8, Dims: []int{h, w}, Data: data}, true)
}

func writeMATVar(t *testing.T, path string, m *matfile.Matrix, compress bool) {
	t.Helper()
	var buf bytes.Buffer
	if err := matfile.Write(&buf, []*matfile.Matrix{m}, compress); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readPlane decodes a written one-channel PNG with Go's decoder.
func readPlane(t *testing.T, path string) ([]byte, int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s: decoded as %T, want one grey channel", path, img)
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		copy(out[y*w:(y+1)*w], g.Pix[y*g.Stride:y*g.Stride+w])
	}
	return out, w, h
}

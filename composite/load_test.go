package composite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	"gocv.io/x/gocv"
)

func write(t *testing.T, name string, m gocv.Mat) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if !gocv.IMWrite(p, m) {
		t.Fatalf("cannot write %s", p)
	}
	return p
}

// rgba is a w×h BGRA test image with the given alpha everywhere.
func rgba(t *testing.T, w, h int, alpha byte) gocv.Mat {
	d := pseudo(4*w*h, 11)
	for i := 3; i < len(d); i += 4 {
		d[i] = alpha
	}
	return mat(t, h, w, gocv.MatTypeCV8UC4, d)
}

func TestLoadCutoutErrors(t *testing.T) {
	rgb := mat(t, 8, 8, gocv.MatTypeCV8UC3, pseudo(3*64, 1))
	for _, name := range []string{"rgb.png", "photo.jpg"} {
		p := write(t, name, rgb)
		_, err := loadCutout(p, false)
		if !errors.Is(err, ErrNoAlpha) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "folder:") {
			t.Errorf("%s: got %v, want ErrNoAlpha naming the path and suggesting folder:", name, err)
		}
	}
	p := write(t, "clear.png", rgba(t, 8, 8, 0))
	if _, err := loadCutout(p, false); !errors.Is(err, ErrTransparent) || !strings.Contains(err.Error(), p) {
		t.Errorf("fully transparent: got %v, want ErrTransparent naming the path", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	if _, err := loadCutout(bad, false); !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt: got %v, want ErrUnreadable naming the path", err)
	}
}

func TestLoadCutout16BitAndStraight(t *testing.T) {
	m8 := rgba(t, 6, 4, 255)
	m16 := gocv.NewMat()
	defer m16.Close()
	m8.ConvertToWithParams(&m16, gocv.MatTypeCV16UC4, 257, 0)
	fg, err := loadCutout(write(t, "deep.png", m16), false)
	if err != nil {
		t.Fatal(err)
	}
	defer fg.Close()
	if got, want := bytesOf(t, fg.bgra), bytesOf(t, m8); string(got) != string(want) {
		t.Error("16-bit cut-out not reduced to the same 8-bit values")
	}
	if fg.ID != "deep.png" || fg.Size().X != 6 || fg.Size().Y != 4 {
		t.Errorf("id %q size %v", fg.ID, fg.Size())
	}
}

func TestLoadCutoutWebP(t *testing.T) {
	m := rgba(t, 6, 4, 200)
	p := filepath.Join(t.TempDir(), "cut.webp")
	if !gocv.IMWriteWithParams(p, m, []int{gocv.IMWriteWebpQuality, 101}) { // 101: lossless
		t.Skip("skipping: this OpenCV cannot write WebP")
	}
	fg, err := loadCutout(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer fg.Close()
	if got, want := bytesOf(t, fg.bgra), bytesOf(t, m); string(got) != string(want) {
		t.Error("lossless WebP cut-out decoded differently")
	}
}

func TestLooksPremultiplied(t *testing.T) {
	// Partial alpha everywhere; colour above alpha somewhere means straight.
	n := 20 * 20
	bgr, a := make([]byte, 3*n), make([]byte, n)
	for i := range a {
		a[i] = byte(1 + i%254)
		for c := range 3 {
			bgr[3*i+c] = byte(int(a[i]) * (c + 1) / 4) // colour <= alpha
		}
	}
	fg := mustFg(t, "p", 20, 20, bgr, a, false)
	if !fg.LooksPremultiplied {
		t.Error("colour <= alpha everywhere: want LooksPremultiplied")
	}
	bgr[3*200] = 255
	if fg := mustFg(t, "s", 20, 20, bgr, a, false); fg.LooksPremultiplied {
		t.Error("a colour above its alpha: want straight")
	}
	if fg := mustFg(t, "u", 20, 20, bgr, a, true); fg.LooksPremultiplied {
		t.Error("loaded as premultiplied: flag must stay off")
	}
}

func TestLoadImageAlpha(t *testing.T) {
	img := mat(t, 4, 6, gocv.MatTypeCV8UC3, pseudo(72, 3))
	al := mat(t, 4, 6, gocv.MatTypeCV8UC1, pseudo(24, 4))
	ip, ap := write(t, "img.png", img), write(t, "img-alpha.png", al)
	fg, err := loadImageAlpha(ip, ap)
	if err != nil {
		t.Fatal(err)
	}
	defer fg.Close()
	d, i, a := bytesOf(t, fg.bgra), bytesOf(t, img), bytesOf(t, al)
	for p := range 24 {
		if d[4*p] != i[3*p] || d[4*p+2] != i[3*p+2] || d[4*p+3] != a[p] {
			t.Fatal("F is not the image, or alpha not the matte")
		}
	}
	small := write(t, "small.png", mat(t, 3, 6, gocv.MatTypeCV8UC1, pseudo(18, 4)))
	if _, err := loadImageAlpha(ip, small); !errors.Is(err, ErrSizeMismatch) || !strings.Contains(err.Error(), small) {
		t.Errorf("got %v, want ErrSizeMismatch naming the alpha", err)
	}
}

func TestLoadBackgroundGreyAndReal(t *testing.T) {
	g := write(t, "grey.png", mat(t, 5, 7, gocv.MatTypeCV8UC1, pseudo(35, 6)))
	bg, err := loadBackground(g)
	if err != nil {
		t.Fatal(err)
	}
	if bg.bgr.Type() != gocv.MatTypeCV8UC3 {
		t.Errorf("grey background decoded as %v, want BGR", bg.bgr.Type())
	}
	bg.Close()

	dir := shareddata.Dir(t, "data/backgrounds")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range files {
		bg, err := loadBackground(p)
		if err != nil {
			t.Errorf("real background: %v", err)
			continue
		}
		if bg.bgr.Type() != gocv.MatTypeCV8UC3 {
			t.Errorf("%s: %v, want BGR", p, bg.bgr.Type())
		}
		bg.Close()
	}
}

package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests read the files back with Go's own decoders, independent of the
// OpenCV encoders that wrote them.

func generate(t *testing.T, opt Options) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	sum, err := Generate(context.Background(), dir, opt)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return dir, sum
}

// listFiles returns every file under dir, slash-separated and relative.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// pngFormat returns the bit depth and colour type from a PNG's header
// (colour type 0 gray, 2 RGB, 6 RGBA).
func pngFormat(t *testing.T, path string) (depth, colorType byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 26 || string(b[12:16]) != "IHDR" {
		t.Fatalf("%s: no PNG header", path)
	}
	return b[24], b[25]
}

func decodeGray(t *testing.T, path string) *image.Gray {
	t.Helper()
	m, ok := decodePNG(t, path).(*image.Gray)
	if !ok {
		t.Fatalf("%s: decoded as %T, want 8-bit grayscale", path, decodePNG(t, path))
	}
	return m
}

func TestGenerateLayout(t *testing.T) {
	dir, sum := generate(t, Options{Count: 3, Seed: 7})

	var want []string
	for i := range 3 {
		s := fmt.Sprintf("portrait_%04d", i)
		want = append(want, "folder/images/"+s+".jpg", "folder/alphas/"+s+".png",
			"folder/masks/"+s+".png", "folder/trimaps/"+s+".png")
		p := fmt.Sprintf("SynthPed%05d", i+1)
		want = append(want, "pennfudan/PNGImages/"+p+".png", "pennfudan/PedMasks/"+p+"_mask.png",
			"pennfudan/Annotation/"+p+".txt", fmt.Sprintf("cutouts/cutout_%04d.png", i))
	}
	slices.Sort(want)
	// Exact list: also proves no temporary files are left behind.
	if got := listFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files:\n got %q\nwant %q", got, want)
	}
	if sum.Portraits != 3 || sum.Scenes != 3 || sum.Cutouts != 3 || sum.Files != len(want) || sum.Dir != dir {
		t.Errorf("summary %+v", sum)
	}
	if sum.People < 3 || sum.People > 9 {
		t.Errorf("people %d, want 1..3 per scene", sum.People)
	}
	var total int64
	for _, f := range want {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, want 0644", f, st.Mode().Perm())
		}
	}
	if sum.Bytes != total {
		t.Errorf("summary bytes %d, files hold %d", sum.Bytes, total)
	}
}

func TestPortraitFiles(t *testing.T) {
	dir, _ := generate(t, Options{Count: 3, Seed: 11})
	for i := range 3 {
		stem := fmt.Sprintf("portrait_%04d", i)
		t.Run(stem, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "folder/images", stem+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := img.(*image.YCbCr); !ok {
				t.Errorf("image decoded as %T, want colour JPEG", img)
			}
			alpha := decodeGray(t, filepath.Join(dir, "folder/alphas", stem+".png"))
			mask := decodeGray(t, filepath.Join(dir, "folder/masks", stem+".png"))
			tri := decodeGray(t, filepath.Join(dir, "folder/trimaps", stem+".png"))
			want := image.Rect(0, 0, DefaultWidth, DefaultHeight)
			for name, b := range map[string]image.Rectangle{
				"image": img.Bounds(), "alpha": alpha.Rect, "mask": mask.Rect, "trimap": tri.Rect,
			} {
				if b != want {
					t.Fatalf("%s bounds %v, want %v", name, b, want)
				}
			}
			checkMatte(t, alpha.Pix, mask.Pix, tri.Pix, DefaultWidth, DefaultHeight)
		})
	}
}

// checkMatte asserts the mask and trimap follow from the alpha, and that the
// soft part of the matte is where hair is: a wide band at the top of the
// silhouette, a thin one along the body.
func checkMatte(t *testing.T, alpha, mask, tri []byte, w, h int) {
	t.Helper()
	var soft, opaque int
	rowSoft := make([]int, h)
	top := -1
	for i, a := range alpha {
		if m := mask[i]; (a >= 128) != (m == 255) || (m != 0 && m != 255) {
			t.Fatalf("pixel %d: alpha %d, mask %d", i, a, m)
		}
		switch tv := tri[i]; {
		case a > 0 && a < 255 && tv != 128:
			t.Fatalf("pixel %d: soft alpha %d outside the trimap's unknown (%d)", i, a, tv)
		case tv == 255 && a != 255, tv == 0 && a != 0, tv != 0 && tv != 128 && tv != 255:
			t.Fatalf("pixel %d: trimap %d with alpha %d", i, tv, a)
		}
		if a > 0 && top < 0 {
			top = i / w
		}
		if a > 0 && a < 255 {
			soft++
			rowSoft[i/w]++
		}
		if a == 255 {
			opaque++
		}
	}
	n := float64(w * h)
	if s := float64(soft) / n; s < 0.01 || s > 0.2 {
		t.Errorf("soft alpha share %.3f, want 0.01..0.2", s)
	}
	if o := float64(opaque) / n; o < 0.2 || o > 0.8 {
		t.Errorf("opaque share %.3f, want 0.2..0.8", o)
	}
	if top < 0 || top > h/3 {
		t.Fatalf("silhouette starts at row %d, want a head in the top third", top)
	}
	// Hair: most soft pixels lie in the top 45% of the silhouette.
	cut := top + (h-top)*45/100
	upper := 0
	for y := range cut {
		upper += rowSoft[y]
	}
	if share := float64(upper) / float64(soft); share < 0.55 {
		t.Errorf("only %.0f%% of soft pixels near the head", 100*share)
	}
	// Body: near the bottom only the two torso edges are soft, a few px each.
	for y := h * 85 / 100; y < h; y++ {
		if rowSoft[y] > 10 {
			t.Errorf("row %d has %d soft pixels, want a thin body edge", y, rowSoft[y])
			break
		}
	}
	// Hair band: scanning down each column of the head, the soft run before
	// the first opaque pixel is several pixels long on average.
	run, cols := 0, 0
	for x := range w {
		k := 0
		for y := range cut {
			a := alpha[y*w+x]
			if a == 255 {
				run += k
				cols++
				break
			}
			if a > 0 {
				k++
			}
		}
	}
	if cols == 0 || float64(run)/float64(cols) < 4 {
		t.Errorf("hair band %d px over %d columns, want several px on average", run, cols)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPennFudanFiles(t *testing.T) {
	const count = 4
	var (
		reSize  = regexp.MustCompile(`(?m)^Image size \(X x Y x C\) : (\d+) x (\d+) x 3$`)
		reCount = regexp.MustCompile(`(?m)^Objects with ground truth : (\d+) \{((?: "PASpersonWalking")*) \}$`)
		reBox   = regexp.MustCompile(`(?m)^Bounding box for object (\d+) "PASpersonWalking" \(Xmin, Ymin\) - \(Xmax, Ymax\) : \((\d+), (\d+)\) - \((\d+), (\d+)\)$`)
		reMask  = regexp.MustCompile(`(?m)^Pixel mask for object (\d+) "PASpersonWalking" : "PennFudanPed/PedMasks/(\w+)_mask\.png"$`)
	)
	dir, sum := generate(t, Options{Count: count, Seed: 3})
	people := 0
	for i := 1; i <= count; i++ {
		stem := fmt.Sprintf("SynthPed%05d", i)
		t.Run(stem, func(t *testing.T) {
			p := filepath.Join(dir, "pennfudan")
			img := decodePNG(t, filepath.Join(p, "PNGImages", stem+".png"))
			if d, c := pngFormat(t, filepath.Join(p, "PNGImages", stem+".png")); d != 8 || c != 2 {
				t.Fatalf("image is depth %d colour type %d, want 8-bit RGB (2)", d, c)
			}
			ids := decodeGray(t, filepath.Join(p, "PedMasks", stem+"_mask.png"))
			b, err := os.ReadFile(filepath.Join(p, "Annotation", stem+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			ann := string(b)
			if !strings.HasPrefix(ann, "# Compatible with PASCAL Annotation Version 1.00\n"+
				`Image filename : "PennFudanPed/PNGImages/`+stem+".png\"\n") {
				t.Errorf("annotation header:\n%s", ann)
			}

			m := reSize.FindStringSubmatch(ann)
			if m == nil {
				t.Fatalf("no image size line:\n%s", ann)
			}
			if w, h := atoi(t, m[1]), atoi(t, m[2]); img.Bounds() != image.Rect(0, 0, w, h) || ids.Rect != img.Bounds() {
				t.Fatalf("annotation says %dx%d, image %v, mask %v", w, h, img.Bounds(), ids.Rect)
			}
			m = reCount.FindStringSubmatch(ann)
			if m == nil {
				t.Fatalf("no object count line:\n%s", ann)
			}
			n := atoi(t, m[1])
			if n < 1 || n > 3 || strings.Count(m[2], `"PASpersonWalking"`) != n {
				t.Fatalf("object count line %q", m[0])
			}
			people += n

			// Tight 1-based inclusive extents, computed here from the mask.
			type box struct{ x0, y0, x1, y1 int }
			ext := map[int]*box{}
			w := ids.Rect.Dx()
			for k, v := range ids.Pix {
				if v == 0 {
					continue
				}
				x, y := k%w+1, k/w+1
				if e := ext[int(v)]; e == nil {
					ext[int(v)] = &box{x, y, x, y}
				} else {
					e.x0, e.y0, e.x1, e.y1 = min(e.x0, x), min(e.y0, y), max(e.x1, x), max(e.y1, y)
				}
			}
			if len(ext) != n {
				t.Fatalf("mask has %d ids, annotation %d objects", len(ext), n)
			}
			for id := 1; id <= n; id++ {
				if ext[id] == nil {
					t.Fatalf("mask ids not contiguous 1..%d: %d missing", n, id)
				}
			}
			boxes := reBox.FindAllStringSubmatch(ann, -1)
			masks := reMask.FindAllStringSubmatch(ann, -1)
			if len(boxes) != n || len(masks) != n {
				t.Fatalf("%d box and %d mask lines for %d objects", len(boxes), len(masks), n)
			}
			for k, bm := range boxes {
				id := atoi(t, bm[1])
				got := box{atoi(t, bm[2]), atoi(t, bm[3]), atoi(t, bm[4]), atoi(t, bm[5])}
				if id != k+1 || got != *ext[id] {
					t.Errorf("object %d: annotation box %+v, mask extent %+v", id, got, *ext[id])
				}
				if e := ext[id]; e.y1-e.y0 < e.x1-e.x0 {
					t.Errorf("object %d is wider than tall: %+v", id, *e)
				}
				if masks[k][1] != strconv.Itoa(k+1) || masks[k][2] != stem {
					t.Errorf("mask line %q", masks[k][0])
				}
			}
		})
	}
	if people != sum.People {
		t.Errorf("annotations list %d people, summary %d", people, sum.People)
	}
}

func TestCutouts(t *testing.T) {
	dir, _ := generate(t, Options{Count: 2, Seed: 5, Width: 160, Height: 200})
	for i := range 2 {
		path := filepath.Join(dir, "cutouts", fmt.Sprintf("cutout_%04d.png", i))
		m, ok := decodePNG(t, path).(*image.NRGBA)
		if d, c := pngFormat(t, path); !ok || d != 8 || c != 6 {
			t.Fatalf("%s: depth %d colour type %d, want 8-bit RGBA (6)", path, d, c)
		}
		if m.Rect != image.Rect(0, 0, 160, 200) {
			t.Fatalf("%s: bounds %v", path, m.Rect)
		}
		var clear, solid, soft int
		for k := 3; k < len(m.Pix); k += 4 {
			switch a := m.Pix[k]; {
			case a == 0:
				clear++
			case a == 255:
				solid++
			default:
				soft++
			}
		}
		if clear == 0 || solid == 0 || soft == 0 {
			t.Errorf("%s: alpha clear %d, solid %d, soft %d; want all three", path, clear, solid, soft)
		}
	}
}

func TestDeterministic(t *testing.T) {
	opt := Options{Count: 2, Seed: 42, Width: 128, Height: 160}
	a, _ := generate(t, opt)
	b, _ := generate(t, opt)
	opt.Seed++
	c, _ := generate(t, opt)
	files := listFiles(t, a)
	if !slices.Equal(files, listFiles(t, b)) || !slices.Equal(files, listFiles(t, c)) {
		t.Fatal("file lists differ between runs")
	}
	for _, f := range files {
		fa, _ := os.ReadFile(filepath.Join(a, f))
		fb, _ := os.ReadFile(filepath.Join(b, f))
		fc, _ := os.ReadFile(filepath.Join(c, f))
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
		if bytes.Equal(fa, fc) {
			t.Errorf("%s is the same for seeds 42 and 43", f)
		}
	}
}

func TestForce(t *testing.T) {
	dir, _ := generate(t, Options{Count: 3, Seed: 1, Width: 96, Height: 120})
	first, err := os.ReadFile(filepath.Join(dir, "folder/images/portrait_0000.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Generate(context.Background(), dir, Options{Count: 2, Seed: 1, Width: 96, Height: 120})
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), filepath.Join(dir, "folder")) {
		t.Fatalf("second run without Force: %v, want ErrExist naming the folder", err)
	}
	foreign := filepath.Join(dir, "folder/images/notes.txt")
	if err := os.WriteFile(foreign, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "folder/images/.portrait_0000.jpg.123456.tmp") // from a killed run
	if err := os.WriteFile(leftover, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), dir, Options{Count: 2, Seed: 1, Width: 96, Height: 120, Force: true}); err != nil {
		t.Fatalf("forced run: %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("Force removed a file it did not write: %v", err)
	}
	for _, stale := range []string{"folder/images/.portrait_0000.jpg.123456.tmp", "folder/images/portrait_0002.jpg", "folder/trimaps/portrait_0002.png",
		"pennfudan/PedMasks/SynthPed00003_mask.png", "pennfudan/Annotation/SynthPed00003.txt", "cutouts/cutout_0002.png"} {
		if _, err := os.Stat(filepath.Join(dir, stale)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind by a smaller forced run (err %v)", stale, err)
		}
	}
	// Sample i does not depend on Count.
	again, err := os.ReadFile(filepath.Join(dir, "folder/images/portrait_0000.jpg"))
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("portrait_0000 changed with Count (err %v)", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Options{Count: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, opt := range []Options{{Count: -1}, {Width: 10}, {Height: 100000}} {
		if _, err := Generate(context.Background(), t.TempDir(), opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
	// A plain file where the output folder should be: the error names it.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), file, Options{Count: 1}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("output under a file: %v", err)
	}
}

// The example from the Penn-Fudan README, for FudanPed00001.
func TestAnnotationMatchesPennFudan(t *testing.T) {
	want := `# Compatible with PASCAL Annotation Version 1.00
Image filename : "PennFudanPed/PNGImages/FudanPed00001.png"
Image size (X x Y x C) : 559 x 536 x 3
Database : "The Penn-Fudan-Pedestrian Database"
Objects with ground truth : 2 { "PASpersonWalking" "PASpersonWalking" }
# Note there may be some objects not included in the ground truth list for they are severe-occluded
# or have very small size.
# Top left pixel co-ordinates : (1, 1)
# Details for pedestrian 1 ("PASpersonWalking")
Original label for object 1 "PASpersonWalking" : "PennFudanPed"
Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (160, 182) - (302, 431)
Pixel mask for object 1 "PASpersonWalking" : "PennFudanPed/PedMasks/FudanPed00001_mask.png"

# Details for pedestrian 2 ("PASpersonWalking")
Original label for object 2 "PASpersonWalking" : "PennFudanPed"
Bounding box for object 2 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (420, 171) - (535, 486)
Pixel mask for object 2 "PASpersonWalking" : "PennFudanPed/PedMasks/FudanPed00001_mask.png"
`
	// 0-based half-open rectangles: columns 159..301 are Xmin 160, Xmax 302.
	got := annotation("FudanPed00001", 559, 536, []image.Rectangle{
		image.Rect(159, 181, 302, 431), image.Rect(419, 170, 535, 486)})
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestPortraitAndPedestrians(t *testing.T) {
	s, err := Portrait(rand.New(rand.NewPCG(1, 2)), 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, m := range map[string]struct{ ch, rows, cols int }{
		"image":  {s.Image.Channels(), s.Image.Rows(), s.Image.Cols()},
		"alpha":  {s.Alpha.Channels(), s.Alpha.Rows(), s.Alpha.Cols()},
		"person": {s.Person.Channels(), s.Person.Rows(), s.Person.Cols()},
	} {
		want := 3
		if name == "alpha" {
			want = 1
		}
		if m.ch != want || m.rows != 150 || m.cols != 200 {
			t.Errorf("%s: %d channels %dx%d", name, m.ch, m.cols, m.rows)
		}
	}
	// Where the matte is opaque the picture is the person's colour.
	img, per, al := s.Image.ToBytes(), s.Person.ToBytes(), s.Alpha.ToBytes()
	opaque := 0
	for i, a := range al {
		if a == 255 {
			opaque++
			if !bytes.Equal(img[3*i:3*i+3], per[3*i:3*i+3]) {
				t.Fatalf("pixel %d: opaque but image %v, person %v", i, img[3*i:3*i+3], per[3*i:3*i+3])
			}
		}
	}
	if opaque == 0 {
		t.Error("no opaque pixel")
	}
	s2, err := Portrait(rand.New(rand.NewPCG(1, 2)), 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !bytes.Equal(s.Image.ToBytes(), s2.Image.ToBytes()) || !bytes.Equal(s.Alpha.ToBytes(), s2.Alpha.ToBytes()) {
		t.Error("equal rng states drew different portraits")
	}

	sc, err := Pedestrians(rand.New(rand.NewPCG(3, 4)), 300, 200)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ids := sc.IDs.ToBytes()
	for k, r := range sc.Boxes {
		var ext image.Rectangle
		for i, v := range ids {
			if int(v) == k+1 {
				ext = ext.Union(image.Rect(i%300, i/300, i%300+1, i/300+1))
			}
		}
		if ext != r {
			t.Errorf("box %d = %v, mask extent %v", k+1, r, ext)
		}
	}
	if _, err := Portrait(rand.New(rand.NewPCG(1, 1)), 8, 8); err == nil {
		t.Error("tiny portrait: no error")
	}
}

func TestInstanceBoxesRenumbers(t *testing.T) {
	// 4x2 picture with ids 1 and 3; 2 vanished.
	ids := []byte{
		1, 0, 3, 3,
		1, 0, 0, 3,
	}
	boxes, err := instanceBoxes(ids, 4, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []image.Rectangle{image.Rect(0, 0, 1, 2), image.Rect(2, 0, 4, 2)}
	if !slices.Equal(boxes, want) || !bytes.Equal(ids, []byte{1, 0, 2, 2, 1, 0, 0, 2}) {
		t.Errorf("boxes %v ids %v", boxes, ids)
	}
	if _, err := instanceBoxes(make([]byte, 8), 4, 2, 1); err == nil {
		t.Error("empty scene: no error")
	}
}

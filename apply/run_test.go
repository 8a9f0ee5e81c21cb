package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"
)

// redModel is a stand-in for a segmentation model: the person is where
// the red channel is >= 128, as the oracle model of models/onnxbuild.
type redModel struct{}

func (redModel) Predict(img gocv.Mat) ([]float32, error) {
	px := bgrBytes(img)
	p := make([]float32, img.Cols()*img.Rows())
	for i := range p {
		if px[3*i+2] >= 128 {
			p[i] = 1
		}
	}
	return p, nil
}

// levelModel predicts one value for the whole frame: its first pixel's
// red channel / 255.
type levelModel struct{}

func (levelModel) Predict(img gocv.Mat) ([]float32, error) {
	px := bgrBytes(img)
	p := make([]float32, img.Cols()*img.Rows())
	for i := range p {
		p[i] = float32(px[2]) / 255
	}
	return p, nil
}

// portrait writes a w x h image: a red "person" rectangle on a textured
// green background.
func portrait(t testing.TB, path string, w, h int) {
	t.Helper()
	px := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			px[i], px[i+1], px[i+2] = uint8(x*5), 120+uint8(y%7)*10, 20
			if x > w/4 && x < 3*w/4 && y > h/5 {
				px[i+2] = 220
			}
		}
	}
	writeBGR(t, path, w, h, px)
}

func writeBGR(t testing.TB, path string, w, h int, px []uint8) {
	t.Helper()
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, px)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if !gocv.IMWrite(path, m) {
		t.Fatalf("write %s", path)
	}
}

// photoFolder writes three portraits (two JPEG, one PNG), a truncated
// JPEG, a text file named .jpg, a README and a dot-file.
func photoFolder(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	portrait(t, filepath.Join(dir, "b.jpg"), 48, 40)
	portrait(t, filepath.Join(dir, "a.png"), 40, 48)
	portrait(t, filepath.Join(dir, "c10.jpg"), 32, 32)
	b, err := os.ReadFile(filepath.Join(dir, "b.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"cut.jpg":    b[:len(b)/2],
		"notes.jpg":  []byte("not a picture\n"),
		"README.txt": []byte("holiday photos\n"),
		"._b.jpg":    {0, 5, 22, 7},
	}
	for n, d := range files {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunAllEffects(t *testing.T) {
	in := photoFolder(t)
	bg := filepath.Join(t.TempDir(), "bg.png")
	portrait(t, bg, 60, 20) // another aspect: cover-fitted and noted
	out := filepath.Join(t.TempDir(), "out")
	var mu sync.Mutex
	var reported []Item
	var progressed int
	o := Options{
		In: in, Out: out, Effects: Effects(), Background: bg, Workers: 3,
		Blur: BlurOptions{Sigma: 3, FgEdge: true}, Refine: RefineOptions{Feather: 1},
		Sheet: filepath.Join(out, "sheet.png"), SheetCell: 40,
		Report:   func(it Item) { reported = append(reported, it) },
		Progress: func(done, total int) { mu.Lock(); progressed = max(progressed, done); mu.Unlock() },
	}
	sum, err := Run(context.Background(), redModel{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inputs != 5 || sum.Done != 3 || sum.Skipped != 2 || sum.Ignored != 2 || sum.Files != 12 || progressed != 5 || len(reported) != 5 {
		t.Errorf("summary %+v, progress %d, %d reports; want 5 inputs, 3 done, 2 skipped, 2 ignored, 12 files", sum, progressed, len(reported))
	}
	// Natural order: a, b, c10, cut, notes.
	var order []string
	for _, it := range sum.Items {
		order = append(order, filepath.Base(it.Input))
		if it.Status == StatusSkipped && it.Reason == "" {
			t.Errorf("%s skipped without a reason", it.Input)
		}
		if it.Status == StatusOK && len(it.Notes) == 0 {
			t.Errorf("%s: the background of another aspect was not noted", it.Input)
		}
	}
	if strings.Join(order, " ") != "a.png b.jpg c10.jpg cut.jpg notes.jpg" {
		t.Errorf("order %v", order)
	}
	for _, f := range []string{"blur/a.png", "blur/b.jpg", "replace/c10.jpg", "cutout/b.png", "matte/a.png", "matte/c10.png", "sheet.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	cut := gocv.IMRead(filepath.Join(out, "cutout/b.png"), gocv.IMReadUnchanged)
	defer cut.Close()
	if cut.Channels() != 4 || cut.Cols() != 48 || cut.Rows() != 40 {
		t.Errorf("cutout: %d channels, %dx%d", cut.Channels(), cut.Cols(), cut.Rows())
	}
	sheet := gocv.IMRead(filepath.Join(out, "sheet.png"), gocv.IMReadColor)
	defer sheet.Close()
	// Header 30 + 3 rows of 40 + gaps of 6.
	if sheet.Rows() != 30+3*(40+6) {
		t.Errorf("sheet is %dx%d, want 3 rows of 40 px panels", sheet.Cols(), sheet.Rows())
	}

	// Again without --force: refused before any work, naming the count.
	_, err = Run(context.Background(), redModel{}, o)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "13 of 21") {
		t.Errorf("second run: %v, want ErrExists for 13 of 21 outputs (5 inputs x 4 effects + the sheet)", err)
	}
	o.Force = true
	if _, err := Run(context.Background(), redModel{}, o); err != nil {
		t.Errorf("with force: %v", err)
	}
}

// The matte of a person drawn in red is exactly the red region (no
// refinement); a single input and a single effect can name the file.
func TestRunSingleFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "me.png")
	portrait(t, in, 40, 50)
	out := filepath.Join(dir, "me-matte.png")
	sum, err := Run(context.Background(), redModel{}, Options{In: in, Out: out, Effects: []Effect{EffectMatte}})
	if err != nil || sum.Done != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	m := gocv.IMRead(out, gocv.IMReadGrayScale)
	defer m.Close()
	px := m.ToBytes()
	for y := range 50 {
		for x := range 40 {
			want := uint8(0)
			if x > 10 && x < 30 && y > 10 {
				want = 255
			}
			if px[y*40+x] != want {
				t.Fatalf("matte (%d,%d) = %d, want %d", x, y, px[y*40+x], want)
			}
		}
	}
}

func TestRunOptionErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "me.png")
	portrait(t, in, 20, 20)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	for _, c := range []struct {
		o    Options
		flag string
	}{
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectReplace}}, "--bg"},
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectBlur}, Background: in}, "--bg"},
		{Options{In: in, Out: dir + "/o.jpg", Effects: []Effect{EffectCutout}}, "--out"},
		{Options{In: in, Out: dir + "/o.png", Effects: []Effect{EffectCutout, EffectMatte}}, "--out"},
		{Options{In: dir + "/none.png", Out: dir + "/o", Effects: []Effect{EffectBlur}}, "--in"},
		{Options{In: empty, Out: dir + "/o", Effects: []Effect{EffectBlur}}, "--in"},
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectBlur}, TemporalEMA: 1}, "--temporal-ema"},
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectBlur}, Blur: BlurOptions{Kernel: 4}}, "--kernel"},
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectBlur}, Refine: RefineOptions{Feather: -2}}, "--feather"},
		{Options{In: in, Out: dir + "/o", Effects: []Effect{EffectBlur}, Harmonize: 0.5}, "--harmonize"},
		{Options{In: in, Out: in, Effects: []Effect{EffectMatte}}, "--out"}, // would overwrite the input
		{Options{In: in, Out: dir + "/o"}, "--effect"},
	} {
		err := Check(c.o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != c.flag {
			t.Errorf("%+v: %v, want an option error for %s", c.o, err, c.flag)
		}
	}
}

// Frames are smoothed strictly in order whatever the number of workers,
// and an unreadable frame neither breaks nor reorders the chain: with
// decay 0.5 and frames alternating 0 and 1 (the broken frame left out),
// the soft mattes are 255·(0, 0.5, 0.25, 0.625, 0.3125, 0.65625).
func TestRunTemporalEMAOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "frames")
	levels := []uint8{0, 255, 0, 255, 0, 255}
	names := []string{}
	for k, v := range levels {
		n := fmt.Sprintf("frame%d.png", k+1) // frame1..frame3, then frame13..frame15: natural order, not bytewise
		if k >= 3 {
			n = fmt.Sprintf("frame%d.png", 10+k)
		}
		names = append(names, n)
		writeBGR(t, filepath.Join(dir, n), 8, 6, solid(8, 6, 0, 0, v))
	}
	if err := os.WriteFile(filepath.Join(dir, "frame5.png"), []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 128, 64, 159, 80, 167} // round(255·s)
	for _, workers := range []int{1, 4} {
		out := filepath.Join(t.TempDir(), "mattes")
		sum, err := Run(context.Background(), levelModel{}, Options{In: dir, Out: out, Effects: []Effect{EffectMatte},
			Refine: RefineOptions{Soft: true}, TemporalEMA: 0.5, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Done != 6 || sum.Skipped != 1 {
			t.Errorf("workers %d: %d done, %d skipped", workers, sum.Done, sum.Skipped)
		}
		for k, n := range names {
			m := gocv.IMRead(filepath.Join(out, n), gocv.IMReadGrayScale)
			v := m.ToBytes()[0]
			m.Close()
			if v != want[k] {
				t.Errorf("workers %d: %s matte %d, want %d", workers, n, v, want[k])
			}
		}
	}
}

func TestNaturalLess(t *testing.T) {
	names := []string{"frame10.png", "frame2.png", "frame1.png", "Frame3.png", "frame002.png", "a", "frame", "frame1b.png"}
	sort.Slice(names, func(i, j int) bool { return NaturalLess(names[i], names[j]) })
	want := "Frame3.png a frame frame1.png frame1b.png frame002.png frame2.png frame10.png"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestOutputNames(t *testing.T) {
	got := outputNames([]string{"in/a.jpg", "in/a.png", "in/b.JPEG"}, []Effect{EffectBlur, EffectMatte}, "out")
	want := [][]string{
		{"out/blur/a_jpg.jpg", "out/matte/a_jpg.png"},
		{"out/blur/a_png.png", "out/matte/a_png.png"},
		{"out/blur/b.jpg", "out/matte/b.png"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// Saved predictions stand in for a model: with --refine the matte is the
// saved prediction itself; a prediction of the wrong size or a missing one
// skips its image.
func TestRunSavedPredictions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	preds := filepath.Join(dir, "preds")
	for _, n := range []string{"a", "b", "c"} {
		portrait(t, filepath.Join(in, n+".jpg"), 20, 10)
	}
	ramp := make([]uint8, 20*10)
	for i := range ramp {
		ramp[i] = uint8(i)
	}
	os.MkdirAll(preds, 0o755)
	for n, m := range map[string][]uint8{"a": ramp, "b": ramp[:100]} {
		w := 20
		if n == "b" {
			w = 10
		}
		g, _ := gocv.NewMatFromBytes(len(m)/w, w, gocv.MatTypeCV8UC1, m)
		gocv.IMWrite(filepath.Join(preds, n+".png"), g)
		g.Close()
	}
	out := filepath.Join(dir, "out")
	sum, err := Run(context.Background(), nil, Options{In: in, Out: out, Preds: preds, Effects: []Effect{EffectMatte}, Refine: RefineOptions{Soft: true}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Skipped != 2 {
		t.Errorf("%d done, %d skipped; want a done, b (10x10) and c (missing) skipped", sum.Done, sum.Skipped)
	}
	m := gocv.IMRead(filepath.Join(out, "a.png"), gocv.IMReadGrayScale)
	defer m.Close()
	if got := m.ToBytes(); string(got) != string(ramp) {
		t.Errorf("matte is not the saved prediction")
	}
	if _, err := Run(context.Background(), redModel{}, Options{In: in, Out: out + "2", Preds: preds, Effects: []Effect{EffectMatte}}); err == nil {
		t.Error("a model and saved predictions both accepted")
	}
}

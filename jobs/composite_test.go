package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"gocv.io/x/gocv"
)

// compositeWrite writes m to dir/rel (creating folders) and returns the path.
func compositeWrite(t *testing.T, dir, rel string, m gocv.Mat) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if !gocv.IMWrite(p, m) {
		t.Fatalf("cannot write %s", p)
	}
	return p
}

// compositeCutout is a w×h straight BGRA cut-out: arbitrary colour, an opaque
// ellipse with a soft rim, transparent corners.
func compositeCutout(t *testing.T, w, h int, seed uint32) gocv.Mat {
	t.Helper()
	d := fixture.Pseudo(4*w*h, seed)
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)+0.5)/float64(w)*2-1, (float64(y)+0.5)/float64(h)*2-1
			r := math.Sqrt(dx*dx + dy*dy)
			d[4*(y*w+x)+3] = uint8(math.Max(0, math.Min(255, (1-r)*4*255)))
		}
	}
	return fixture.Mat(t, h, w, gocv.MatTypeCV8UC4, d)
}

// compositeSources writes a cut-out folder (two with one base name in different
// subfolders) and a background folder of mixed formats.
func compositeSources(t *testing.T) (fgDir, bgDir string) {
	t.Helper()
	root := t.TempDir()
	fgDir, bgDir = filepath.Join(root, "fg"), filepath.Join(root, "bg")
	compositeWrite(t, fgDir, "a/person.png", compositeCutout(t, 40, 56, 1))
	compositeWrite(t, fgDir, "b/person.png", compositeCutout(t, 36, 60, 2))
	compositeWrite(t, fgDir, "c.webp", compositeCutout(t, 30, 44, 3))
	compositeWrite(t, bgDir, "photo.jpg", fixture.Mat(t, 50, 70, gocv.MatTypeCV8UC3, fixture.Pseudo(3*50*70, 4)))
	compositeWrite(t, bgDir, "grey.png", fixture.Mat(t, 90, 60, gocv.MatTypeCV8UC1, fixture.Pseudo(90*60, 5)))
	compositeWrite(t, bgDir, "sub/wide.png", fixture.Mat(t, 40, 160, gocv.MatTypeCV8UC3, fixture.Pseudo(3*40*160, 6)))
	compositeWrite(t, bgDir, "rgba.png", fixture.Mat(t, 64, 64, gocv.MatTypeCV8UC4, fixture.Pseudo(4*64*64, 7)))
	return fgDir, bgDir
}

// compositeFiles maps every file below dir (but dataset.json, which holds the
// creation time) to its bytes.
func compositeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := treeFiles(t, dir)
	delete(out, dataset.InfoFile)
	return out
}

func compositeRecord(t *testing.T, s dataset.Sample) composite.Record {
	t.Helper()
	var rec composite.Record
	if err := json.Unmarshal(s.Extra["composite"], &rec); err != nil {
		t.Fatalf("%s: extra.composite: %v", s.ID, err)
	}
	return rec
}

func compositeRejects(t *testing.T, dir string) []dataset.Reject {
	t.Helper()
	rs, err := dataset.ReadRejects(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Every drawn option on: workers must not change a byte.
func TestCompositeSameBytesWhateverWorkers(t *testing.T) {
	fgDir, bgDir := compositeSources(t)
	var runs []map[string]string
	for _, workers := range []int{1, 2} {
		// One worker keeps every input decoded; two decode them afresh for
		// each composite.
		cache := map[int]int64{1: 1 << 30, 2: -1}[workers]
		out := filepath.Join(t.TempDir(), "comp")
		calls := 0
		sum, err := Composite(context.Background(), CompositeOptions{
			Fg: fgDir, Bg: bgDir, Out: out, Preview: 4, ImageFormat: "jpg", cacheBytes: cache,
			Composite: composite.Options{Seed: 9, Width: 64, Height: 80, ScaleLo: 0.4, ScaleHi: 1.1, Position: composite.Random, Flip: true,
				Multi: 0.6, Harmonize: 0.3, BgBlur: 1, Noise: 2, LinearLight: true, Layers: true, PerFg: 3},
			Ratios:     dataset.Ratios{0.5, 0.25, 0.25},
			RunOptions: RunOptions{Workers: workers, Progress: func(done, total int) { calls++ }},
		})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Planned != 9 || sum.Samples != 9 || sum.Foregrounds != 3 || sum.Backgrounds != 4 || sum.Rejects != 0 || calls != 9 {
			t.Fatalf("workers %d: summary %+v, %d progress calls", workers, sum, calls)
		}
		if sum.Preview != filepath.Join(out, CompositePreviewFile) {
			t.Errorf("preview %q", sum.Preview)
		}
		d := validateDataset(t, out)
		for _, s := range d.Samples {
			rec := compositeRecord(t, s)
			if !strings.HasPrefix(s.ID, rec.Fg+"__") || s.Parent != rec.Fg || s.Source[1] != rec.Bg || len(s.Source) != 1+len(rec.Layers) {
				t.Errorf("row %s: source %v, parent %s, record %+v", s.ID, s.Source, s.Parent, rec)
			}
			if !strings.HasSuffix(s.Image, ".jpg") || s.SHA256["fg/"+s.ID+".png"] == "" || s.SHA256["bg/"+s.ID+".png"] == "" {
				t.Errorf("row %s: image %s, sha256 %v", s.ID, s.Image, s.SHA256)
			}
		}
		runs = append(runs, compositeFiles(t, out))
	}
	a, b := runs[0], runs[1]
	if len(a) != len(b) || len(a) < 9*5+3 {
		t.Fatalf("%d files with 1 worker, %d with 2", len(a), len(b))
	}
	for name, data := range a {
		if b[name] != data {
			t.Errorf("%s differs between 1 and 2 workers", name)
		}
	}
	// Ids come from the relative path: the two person.png do not clash.
	for _, id := range []string{"a_person__000", "b_person__002", "c__001"} {
		if _, ok := a["alphas/"+id+".png"]; !ok {
			t.Errorf("no composite %s", id)
		}
	}
	if a["alphas/a_person__000.png"] == a["alphas/b_person__000.png"] {
		t.Error("two cut-outs of one base name drew alike")
	}
}

func TestCompositeRejectsBadInputs(t *testing.T) {
	fgDir, bgDir := compositeSources(t)
	compositeWrite(t, fgDir, "rgb.png", fixture.Mat(t, 20, 20, gocv.MatTypeCV8UC3, fixture.Pseudo(1200, 8)))
	compositeWrite(t, fgDir, "clear.png", fixture.Mat(t, 20, 20, gocv.MatTypeCV8UC4, make([]byte, 1600)))
	compositeWrite(t, fgDir, "huge.png", compositeCutout(t, 150, 200, 9)) // larger than the canvas
	os.WriteFile(filepath.Join(fgDir, "notes.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(bgDir, "garbage.jpg"), fixture.Pseudo(500, 10), 0o644)
	out := filepath.Join(t.TempDir(), "comp")
	sum, err := Composite(context.Background(), CompositeOptions{Fg: fgDir, Bg: bgDir, Out: out,
		Composite:  composite.Options{Seed: 1, Width: 64, Height: 80, PerFg: 2},
		RunOptions: RunOptions{Workers: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Foregrounds != 4 || sum.Backgrounds != 4 || sum.Samples != 8 || sum.Rejects != 4 || sum.Shrunk != 2 {
		t.Errorf("summary %+v: want 4 foregrounds (huge shrunk twice, not rejected), 4 backgrounds, 8 samples, 4 rejects", sum)
	}
	want := map[string]struct{ stage, code, says string }{
		"rgb.png":     {"foreground", CompositeCodeNoAlpha, "folder:"},
		"clear.png":   {"foreground", CompositeCodeTransparent, "transparent"},
		"notes.txt":   {"foreground", dataset.CodeNotImage, "not an image"},
		"garbage.jpg": {"background", dataset.CodeCorrupt, "cannot be read"},
	}
	rs := compositeRejects(t, out)
	for _, r := range rs {
		w, ok := want[r.Source[0]]
		if !ok || r.Stage != w.stage || r.Code != w.code || !strings.Contains(r.Reason, w.says) {
			t.Errorf("reject %+v: want %+v", r, w)
		}
		delete(want, r.Source[0])
	}
	if len(want) != 0 {
		t.Errorf("no reject for %v", want)
	}
	d := validateDataset(t, out)
	for _, s := range d.Samples {
		if rec := compositeRecord(t, s); strings.HasPrefix(s.ID, "huge__") != rec.Shrunk {
			t.Errorf("%s: shrunk %v", s.ID, rec.Shrunk)
		}
	}
}

// The P3M cut-outs over the real photos: a valid dataset whose alphas are
// exactly the cut-outs' alphas at the recorded placements.
func TestCompositeRealCutouts(t *testing.T) {
	cutDir := filepath.Join(shareddata.Dir(t, "data/p3m"), "cutouts")
	bgDir := shareddata.Dir(t, "data/backgrounds")
	out := filepath.Join(t.TempDir(), "comp")
	sum, err := Composite(context.Background(), CompositeOptions{Fg: cutDir, Bg: bgDir, Out: out,
		Premultiplied: true, Composite: composite.Options{Seed: 4, Flip: true, PerFg: 1},
		RunOptions: RunOptions{Workers: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Samples == 0 || sum.Rejects != 0 || len(sum.LooksPremultiplied) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	d := validateDataset(t, out)
	flips := map[bool]int{}
	for _, s := range d.Samples {
		rec := compositeRecord(t, s)
		p := rec.Layers[0]
		flips[p.Flip]++
		if p.Scale != 1 || p.X != 0 || p.Y != 0 {
			t.Errorf("%s: placement %+v, want scale 1 at 0,0", s.ID, p)
		}
		src := gocv.IMRead(filepath.Join(cutDir, s.Source[0]), gocv.IMReadUnchanged)
		a := gocv.NewMat()
		gocv.ExtractChannel(src, &a, 3)
		src.Close()
		wantA := compositePlacedAlpha(t, a, p, s.Width, s.Height)
		a.Close()
		got := gocv.IMRead(d.Path(s.Alpha), gocv.IMReadGrayScale)
		if !bytes.Equal(fixture.BytesOf(t, got), wantA) {
			t.Errorf("%s: alpha is not the cut-out's alpha at %+v", s.ID, p)
		}
		got.Close()
	}
	if flips[true] == 0 || flips[false] == 0 {
		t.Errorf("flips %v over %d composites: want both", flips, sum.Samples)
	}

	// Loaded as straight, the same cut-outs are reported.
	sum, err = Composite(context.Background(), CompositeOptions{Fg: filepath.Join(cutDir, "p_07141906.png"),
		Bg: "procedural:gradient", Out: filepath.Join(t.TempDir(), "straight"), Composite: composite.Options{Width: 96, Height: 96}})
	if err != nil || len(sum.LooksPremultiplied) != 1 || sum.Shrunk != 1 {
		t.Errorf("straight load of a premultiplied cut-out: %v, %+v", err, sum)
	}
}

func TestCompositeResumeWritesNothing(t *testing.T) {
	fgDir, bgDir := compositeSources(t)
	out := filepath.Join(t.TempDir(), "comp")
	o := CompositeOptions{Fg: fgDir, Bg: bgDir, Out: out, Preview: 3,
		Composite:  composite.Options{Seed: 2, Width: 48, Height: 64, ScaleLo: 0.5, ScaleHi: 1, Layers: true, PerFg: 2},
		RunOptions: RunOptions{Workers: 2},
	}
	first, err := Composite(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	before := compositeFiles(t, out)
	o.Resume = true
	again, err := Composite(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files != 0 || again.Reused != first.Samples || again.Samples != first.Samples {
		t.Errorf("resume of a finished run: %d files written, %d of %d reused", again.Files, again.Reused, first.Samples)
	}
	if after := compositeFiles(t, out); len(after) != len(before) {
		t.Errorf("%d files before, %d after", len(before), len(after))
	} else {
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s changed", k)
			}
		}
	}
	// A lost layer file redoes only its composite.
	os.Remove(filepath.Join(out, "bg", "c__001.png"))
	again, err = Composite(context.Background(), o)
	if err != nil || again.Files != 5 || again.Reused != first.Samples-1 {
		t.Errorf("resume after losing one layer: %v, %d files written, %d reused", err, again.Files, again.Reused)
	}
	// A background added since changes the plan: composites whose
	// background changed are redone, the others kept.
	compositeWrite(t, bgDir, "zz.png", fixture.Mat(t, 30, 30, gocv.MatTypeCV8UC3, fixture.Pseudo(2700, 11)))
	again, err = Composite(context.Background(), o)
	if err != nil || again.Reused == 0 || again.Reused == again.Samples {
		t.Errorf("resume with a new background: %v, %d of %d reused", err, again.Reused, again.Samples)
	}
	d := validateDataset(t, out)
	for _, s := range d.Samples {
		if rec := compositeRecord(t, s); rec.Bg != s.Source[1] {
			t.Errorf("%s: record says background %s, source %s", s.ID, rec.Bg, s.Source[1])
		}
	}
	// Other options: refused.
	o.Composite.Seed = 3
	if _, err := Composite(context.Background(), o); err == nil || !strings.Contains(err.Error(), "other options") {
		t.Errorf("resume with another seed: %v", err)
	}
}

func TestCompositeOptionErrors(t *testing.T) {
	fgDir, bgDir := compositeSources(t)
	out := filepath.Join(t.TempDir(), "comp")
	for _, tc := range []struct {
		o     CompositeOptions
		field string
	}{
		{CompositeOptions{Fg: fgDir, Bg: bgDir, Composite: composite.Options{PerFg: 5}}, "PerFg"},
		{CompositeOptions{Fg: filepath.Join(fgDir, "none"), Bg: bgDir}, "Fg"},
		{CompositeOptions{Fg: "folder:" + fgDir, Bg: bgDir}, "Fg"},
		{CompositeOptions{Fg: fgDir, Bg: "procedural:plaid"}, "Bg"},
		{CompositeOptions{Fg: fgDir, Bg: filepath.Join(bgDir, "none")}, "Bg"},
		{CompositeOptions{Fg: fgDir, Bg: bgDir, ImageFormat: "gif"}, "ImageFormat"},
		{CompositeOptions{Fg: fgDir, Bg: bgDir, Composite: composite.Options{Multi: 2}}, "Composite"},
	} {
		tc.o.Out = out
		_, err := Composite(context.Background(), tc.o)
		var oe *dataset.OptionError
		if !errors.As(err, &oe) || oe.Field != tc.field {
			t.Errorf("%+v: got %v, want an OptionError for %s", tc.o, err, tc.field)
		}
		if tc.field == "PerFg" && !errors.Is(err, composite.ErrTooFewBackgrounds) {
			t.Errorf("per-fg: %v does not wrap ErrTooFewBackgrounds", err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: an option error left output behind", tc.field)
		}
	}
	sum, err := Composite(context.Background(), CompositeOptions{Fg: fgDir, Bg: bgDir, Out: out,
		Composite: composite.Options{PerFg: 5, AllowRepeat: true}})
	if err != nil || sum.Samples != 15 {
		t.Errorf("allow repeat: %v, %d samples", err, sum.Samples)
	}
}

func TestCompositeNothingUsable(t *testing.T) {
	dir := t.TempDir()
	compositeWrite(t, dir, "fg/rgb.jpg", fixture.Mat(t, 20, 20, gocv.MatTypeCV8UC3, fixture.Pseudo(1200, 8)))
	out := filepath.Join(dir, "comp")
	sum, err := Composite(context.Background(), CompositeOptions{Fg: filepath.Join(dir, "fg"), Bg: "procedural", Out: out})
	if !errors.Is(err, ErrNoComposites) || sum.Rejects != 1 {
		t.Fatalf("got %v, %+v; want ErrNoComposites and one reject", err, sum)
	}
	if rs := compositeRejects(t, out); len(rs) != 1 || rs[0].Code != CompositeCodeNoAlpha {
		t.Errorf("rejects %+v", rs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fgDir, bgDir := compositeSources(t)
	if _, err := Composite(ctx, CompositeOptions{Fg: fgDir, Bg: bgDir, Out: filepath.Join(dir, "c2")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

// folder: pairs and a canonical dataset as foregrounds: F is the image.
func TestCompositePairsAndDataset(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "pairs")
	raw := filepath.Join(dir, "raw")
	for i, name := range []string{"p0", "p1", "p2"} {
		c := compositeCutout(t, 32, 40, uint32(20+i))
		bgr, a := gocv.NewMat(), gocv.NewMat()
		gocv.CvtColor(c, &bgr, gocv.ColorBGRAToBGR)
		gocv.ExtractChannel(c, &a, 3)
		compositeWrite(t, pairs, "fg/"+name+".jpg", bgr)
		compositeWrite(t, pairs, "alpha/"+name+".png", a)
		compositeWrite(t, raw, "images/"+name+".png", bgr)
		compositeWrite(t, raw, "alphas/"+name+".png", a)
		bgr.Close()
		a.Close()
	}
	compositeWrite(t, pairs, "fg/lonely.png", fixture.Mat(t, 8, 8, gocv.MatTypeCV8UC3, fixture.Pseudo(192, 1)))
	compositeWrite(t, pairs, "alpha/orphan.png", fixture.Mat(t, 8, 8, gocv.MatTypeCV8UC1, fixture.Pseudo(64, 1)))

	out := filepath.Join(dir, "from-pairs")
	sum, err := Composite(context.Background(), CompositeOptions{Fg: "folder:" + pairs, Bg: "procedural:noise,blobs", Out: out,
		Composite: composite.Options{PerFg: 2}})
	if err != nil || sum.FgKind != CompositeFgPairs || sum.Samples != 6 || sum.Rejects != 2 {
		t.Fatalf("pairs: %v, %+v", err, sum)
	}
	d := validateDataset(t, out)
	if s := d.Samples[0]; s.ID != "p0__000" || s.Source[0] != "fg/p0.jpg" {
		t.Errorf("first row %s from %v", s.ID, s.Source)
	}

	ds := filepath.Join(dir, "ds")
	if _, err := Build(context.Background(), BuildOptions{Format: "auto", Src: raw, Out: ds, Ratios: dataset.Ratios{0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "from-ds")
	sum, err = Composite(context.Background(), CompositeOptions{Fg: ds, Bg: "procedural:checks", Out: out, Composite: composite.Options{PerFg: 2, Multi: 1}})
	if err != nil || sum.FgKind != CompositeFgDataset || sum.Samples != 6 || sum.Counts["test"] != 6 {
		t.Fatalf("dataset: %v, %+v; want 6 composites, all in the foregrounds' test split", err, sum)
	}
	d = validateDataset(t, out)
	if s := d.Samples[0]; s.ID != "p0__000" || s.Source[0] != "images/p0.png" || len(s.Source) != 3 {
		t.Errorf("first row %s from %v", s.ID, s.Source)
	}
	var oe *dataset.OptionError
	if _, err := Composite(context.Background(), CompositeOptions{Fg: ds, Bg: "procedural", Out: filepath.Join(dir, "x"), Premultiplied: true}); !errors.As(err, &oe) || oe.Field != "Premultiplied" {
		t.Errorf("Premultiplied for a dataset source: got %v, want an OptionError for Premultiplied", err)
	}
}

// compositePlacedAlpha is a w×h canvas holding alpha a as placement p puts
// it.
func compositePlacedAlpha(t testing.TB, a gocv.Mat, p composite.Placement, w, h int) []byte {
	t.Helper()
	return fixture.PlacedAlpha(t, a, fixture.Placement{X: p.X, Y: p.Y, W: p.W, H: p.H, Flip: p.Flip}, w, h)
}

// Reading the files is the job's: a missing, empty, garbage or truncated
// background is refused as unreadable, naming its path.
func TestCompositeLoadBackgroundErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.jpg")
	os.WriteFile(garbage, []byte("hello"), 0o644)
	empty := filepath.Join(dir, "empty.png")
	os.WriteFile(empty, nil, 0o644)
	jpg, err := os.ReadFile(compositeWrite(t, dir, "whole.jpg", fixture.Mat(t, 64, 64, gocv.MatTypeCV8UC3, fixture.Pseudo(3*64*64, 5))))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.jpg")
	os.WriteFile(cut, jpg[:len(jpg)/2], 0o644)
	load := func(p string) (*composite.Background, error) {
		return compositeLoadBackground(dataset.Decoder{}, compositeBg{id: filepath.Base(p), path: p})
	}
	for _, p := range []string{garbage, empty, cut, filepath.Join(dir, "missing.png")} {
		_, err := load(p)
		if !errors.Is(err, composite.ErrBadBackground) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want ErrBadBackground naming the path", filepath.Base(p), err)
		}
	}
	if _, err := load(filepath.Join(dir, "missing.png")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap fs.ErrNotExist", err)
	}
	if _, err := load("procedural:plaid"); err == nil {
		t.Error("unknown pattern accepted")
	}

	// Real photos cut short are unreadable, though OpenCV would decode them.
	photos, _ := filepath.Glob(filepath.Join(shareddata.Dir(t, "data/backgrounds"), "*.jpg"))
	for _, p := range photos {
		data, _ := os.ReadFile(p)
		cut := filepath.Join(t.TempDir(), "cut.jpg")
		os.WriteFile(cut, data[:len(data)*2/3], 0o644)
		if _, err := load(cut); !errors.Is(err, composite.ErrUnreadable) {
			t.Errorf("%s truncated: got %v, want ErrUnreadable", filepath.Base(p), err)
		}
	}
}

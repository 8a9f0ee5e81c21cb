package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/augment"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/synth"
	"gocv.io/x/gocv"
)

// augmentTestSource draws count small demo portraits (JPEG images with masks,
// alphas and trimaps) and Penn-Fudan scenes, builds each layout into a
// canonical dataset, and returns the two datasets.
func augmentTestSource(t *testing.T, count int) (folder, pennfudan string) {
	t.Helper()
	root := t.TempDir()
	ctx := context.Background()
	if _, err := synth.Generate(ctx, filepath.Join(root, "src"), synth.Options{Count: count, Seed: 3, Width: 64, Height: 80}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ layout, out string }{{synth.FolderDir, "ds"}, {synth.PennFudanDir, "pf"}} {
		// Ratios that put samples in every split.
		_, err := Build(ctx, BuildOptions{Src: filepath.Join(root, "src", l.layout), Out: filepath.Join(root, l.out),
			Ratios: dataset.Ratios{0.5, 0.25, 0.25}, Seed: 1,
			RunOptions: RunOptions{Workers: 2},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "ds"), filepath.Join(root, "pf")
}

// augmentTestConfig writes yaml to a config file and returns its path.
func augmentTestConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// augmentTestFiles maps every file below dir to its bytes; dataset.json loses its
// creation time.
func augmentTestFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := treeFiles(t, dir)
	if b, ok := out[dataset.InfoFile]; ok {
		var info dataset.Info
		if err := json.Unmarshal([]byte(b), &info); err != nil {
			t.Fatal(err)
		}
		info.Created = ""
		nb, _ := json.Marshal(info)
		out[dataset.InfoFile] = string(nb)
	}
	return out
}

func augmentMustParse(t testing.TB, yaml string) *augment.Pipeline {
	t.Helper()
	p, err := augment.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Every op, originals and the preview: workers must not change a byte.
func TestAugmentSameBytesWhateverWorkers(t *testing.T) {
	src, _ := augmentTestSource(t, 4)
	cfg := augmentTestConfig(t, fixture.EveryAugmentOp)
	var runs []map[string]string
	for _, workers := range []int{1, 2} {
		out := filepath.Join(t.TempDir(), "aug")
		calls := 0
		sum, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out, Copies: 3, Seed: 7,
			IncludeOriginals: true, Preview: 2,
			RunOptions: RunOptions{Workers: workers, Progress: func(done, total int) { calls++ }},
		})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Samples != 4*4 || sum.Originals != 4 || sum.Planned != 16 || sum.Selected != 4 || calls != 4 {
			t.Errorf("workers %d: summary %+v, %d progress calls", workers, sum, calls)
		}
		if sum.Preview != filepath.Join(out, AugmentPreviewFile) {
			t.Errorf("preview %q", sum.Preview)
		}
		validateDataset(t, out)
		runs = append(runs, augmentTestFiles(t, out))
	}
	a, b := runs[0], runs[1]
	if len(a) != len(b) {
		t.Fatalf("%d files with 1 worker, %d with 2", len(a), len(b))
	}
	for rel, data := range a {
		if b[rel] != data {
			t.Errorf("%s differs between 1 and 2 workers", rel)
		}
	}
	for _, rel := range []string{dataset.ManifestFile, dataset.InfoFile, dataset.RejectsFile, AugmentPreviewFile} {
		if _, ok := a[rel]; !ok {
			t.Errorf("no %s", rel)
		}
	}
}

// Rows: ids, parents, splits, formats, records that replay, originals
// byte for byte.
func TestAugmentRows(t *testing.T) {
	src, _ := augmentTestSource(t, 3)
	cfgText := "ops: [fliplr, {affine: {rotate: [-20, 20], scale: [0.8, 1.2]}}, {gaussian_blur: {sigma: [0, 1]}}]"
	cfg := augmentTestConfig(t, cfgText)
	out := filepath.Join(t.TempDir(), "aug")
	sum, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out, Copies: 2, Seed: 5,
		IncludeOriginals: true, Version: "test",
		RunOptions: RunOptions{Workers: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Applied["fliplr"] != 6 || sum.Applied["affine"] != 6 || sum.Originals != 3 || sum.Rejects != 0 {
		t.Errorf("summary %+v", sum)
	}
	d := validateDataset(t, out)
	sd := openDataset(t, src)
	if d.Info.Format != "augment" || d.Info.Version != "test" || d.Info.Options["copies"] != 2.0 {
		t.Errorf("dataset.json %+v", d.Info)
	}
	p := augmentMustParse(t, cfgText)
	byID := map[string]dataset.Sample{}
	for _, s := range d.Samples {
		byID[s.ID] = s
	}
	for _, s := range sd.Samples {
		orig, ok := byID[s.ID]
		if !ok {
			t.Fatalf("original %s missing", s.ID)
		}
		if !slices.Equal(orig.Files(), s.Files()) || len(orig.SHA256) != len(s.SHA256) || orig.Split != s.Split {
			t.Errorf("original %s: %+v, source %+v", s.ID, orig, s)
		}
		for rel, h := range s.SHA256 {
			a, _ := os.ReadFile(filepath.Join(src, rel))
			b, _ := os.ReadFile(filepath.Join(out, rel))
			if orig.SHA256[rel] != h || !bytes.Equal(a, b) {
				t.Errorf("original %s: %s not copied byte for byte", s.ID, rel)
			}
		}
		base, err := augmentLoadSample(dataset.Decoder{}, s, func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(src, rel)) })
		if err != nil {
			t.Fatal(err)
		}
		for k := range 2 {
			c, ok := byID[AugmentCopyID(s.ID, k)]
			if !ok {
				t.Fatalf("copy %s missing", AugmentCopyID(s.ID, k))
			}
			if c.Parent != s.ID || c.Split != s.Split || !slices.Equal(c.Source, s.Source) || filepath.Ext(c.Image) != ".jpg" ||
				filepath.Ext(c.Mask) != ".png" || c.Alpha == "" || c.Trimap == "" || c.Boxes != nil || c.Instances != "" {
				t.Errorf("copy %s: %+v", c.ID, c)
			}
			// The record is what the pipeline draws for (seed, id, k).
			c2 := base.Clone()
			log, err := p.Apply(c2, 5, s.ID, k)
			c2.Close()
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(log)
			if string(c.Extra["augment"]) != string(want) {
				t.Errorf("copy %s: extra.augment %s, replay %s", c.ID, c.Extra["augment"], want)
			}
		}
		base.Close()
	}
}

func TestAugmentResume(t *testing.T) {
	src, _ := augmentTestSource(t, 3)
	cfg := augmentTestConfig(t, "ops: [fliplr, {rotate: {angle: [-10, 10]}}]")
	out := filepath.Join(t.TempDir(), "aug")
	o := AugmentOptions{Config: cfg, Dataset: src, Out: out, Copies: 2, Seed: 1, IncludeOriginals: true, Preview: 1, RunOptions: RunOptions{Workers: 2}}
	first, err := Augment(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	before := augmentTestFiles(t, out)
	o.Resume = true
	again, err := Augment(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files != 0 || again.Reused != first.Samples || again.Samples != first.Samples {
		t.Errorf("second run: %d files written, %d reused of %d", again.Files, again.Reused, first.Samples)
	}
	after := augmentTestFiles(t, out)
	for rel, data := range before {
		if after[rel] != data {
			t.Errorf("resume changed %s", rel)
		}
	}
	// A lost file is written again, alone with its row's other planes.
	d := openDataset(t, out)
	lost := d.Samples[1]
	os.Remove(filepath.Join(out, lost.Mask))
	again, err = Augment(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files != len(lost.Files()) || again.Reused != first.Samples-1 {
		t.Errorf("after losing %s: %d files written, %d reused", lost.Mask, again.Files, again.Reused)
	}
	validateDataset(t, out)
	if augmentTestFiles(t, out)[dataset.ManifestFile] != before[dataset.ManifestFile] {
		t.Error("manifest changed")
	}
	// Other options: refused.
	o.Seed = 2
	if _, err := Augment(context.Background(), o); err == nil || !strings.Contains(err.Error(), "other options") {
		t.Errorf("resume with another seed: %v", err)
	}
	// Force replaces.
	o.Resume, o.Force = false, true
	if _, err := Augment(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	o.Force = false
	if _, err := Augment(context.Background(), o); !errors.Is(err, dataset.ErrExists) {
		t.Errorf("existing output: %v", err)
	}
}

func TestAugmentSplits(t *testing.T) {
	src, _ := augmentTestSource(t, 4)
	sd := openDataset(t, src)
	have := map[string]int{}
	for _, s := range sd.Samples {
		have[s.Split]++
	}
	cfg := augmentTestConfig(t, "ops: [fliplr]")
	for _, sp := range dataset.SplitNames() {
		out := filepath.Join(t.TempDir(), "aug")
		sum, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out, Copies: 2, Splits: []string{sp}})
		if have[sp] == 0 {
			if !errors.Is(err, ErrAugmentNothingSelected) || !strings.Contains(err.Error(), sp) {
				t.Errorf("split %s is empty: %v", sp, err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("split %s: %s created", sp, out)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if sum.Selected != have[sp] || sum.Samples != 2*have[sp] || sum.Counts[sp] != sum.Samples {
			t.Errorf("split %s: %+v (source has %v)", sp, sum, have)
		}
	}
	_, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: filepath.Join(t.TempDir(), "x"), Splits: []string{"training"}})
	var oe *dataset.OptionError
	if !errors.As(err, &oe) || oe.Field != "Splits" {
		t.Errorf("unknown split: %v", err)
	}
}

func TestAugmentBadOptions(t *testing.T) {
	src, _ := augmentTestSource(t, 1)
	dir := t.TempDir()
	out := filepath.Join(dir, "aug")
	cfg := augmentTestConfig(t, "ops:\n  - fliplr: {p: 0.5}\n  - median_blur:\n      kernel: 4\n")
	_, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out})
	var ce *augment.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, augment.ErrBadKernel) || !strings.Contains(err.Error(), cfg+":4") || !strings.Contains(err.Error(), `"median_blur"`) {
		t.Errorf("bad kernel: %v", err)
	}
	good := augmentTestConfig(t, "ops: [fliplr]")
	for _, tc := range []struct {
		o     AugmentOptions
		field string
	}{
		{AugmentOptions{Config: filepath.Join(dir, "none.yaml"), Dataset: src, Out: out}, "Config"},
		{AugmentOptions{Config: good, Dataset: filepath.Join(dir, "none"), Out: out}, "Dataset"},
		{AugmentOptions{Config: good, Dataset: src, Out: src, RunOptions: RunOptions{Force: true}}, "Out"},
		{AugmentOptions{Config: good, Dataset: src}, "Out"},
		{AugmentOptions{Config: good, Dataset: src, Out: out, Copies: -1}, "Copies"},
		{AugmentOptions{Config: good, Dataset: src, Out: out, JPEGQuality: 101}, "JPEGQuality"},
	} {
		_, err := Augment(context.Background(), tc.o)
		var oe *dataset.OptionError
		if !errors.As(err, &oe) || oe.Field != tc.field {
			t.Errorf("%+v: %v, want an error about %s", tc.o, err, tc.field)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad options left %v behind", entries)
	}
}

// Unreadable sources become rejects naming the file; the others are
// written, unless FailFast.
func TestAugmentRejects(t *testing.T) {
	src, _ := augmentTestSource(t, 4)
	sd := openDataset(t, src)
	lost, changed := sd.Samples[0], sd.Samples[2]
	os.Remove(filepath.Join(src, lost.Mask))
	os.WriteFile(filepath.Join(src, changed.Image), []byte("not the image the manifest lists"), 0o644)
	cfg := augmentTestConfig(t, "ops: [fliplr]")
	out := filepath.Join(t.TempDir(), "aug")
	sum, err := Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out, Copies: 2, RunOptions: RunOptions{Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Samples != 4 || sum.Rejects != 2 || sum.RejectCodes[AugmentCodeMissingFile] != 1 || sum.RejectCodes[AugmentCodeChecksum] != 1 {
		t.Errorf("summary %+v", sum)
	}
	rs, err := dataset.ReadRejects(out)
	if err != nil || len(rs) != 2 {
		t.Fatalf("rejects %+v: %v", rs, err)
	}
	want := map[string]string{lost.ID: lost.Mask, changed.ID: changed.Image}
	for _, r := range rs {
		if path, ok := want[r.ID]; !ok || !strings.HasPrefix(r.Reason, path+": ") || r.Kept {
			t.Errorf("reject %+v should name %q", r, path)
		}
	}
	validateDataset(t, out)

	out2 := filepath.Join(t.TempDir(), "aug")
	_, err = Augment(context.Background(), AugmentOptions{Config: cfg, Dataset: src, Out: out2, RunOptions: RunOptions{FailFast: true}})
	if !errors.Is(err, dataset.ErrFailFast) {
		t.Errorf("fail-fast: %v", err)
	}
	if _, err := dataset.Open(out2); !errors.Is(err, dataset.ErrPartial) {
		t.Errorf("fail-fast left %v", err)
	}
}

func TestAugmentCancelled(t *testing.T) {
	src, _ := augmentTestSource(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "aug")
	_, err := Augment(ctx, AugmentOptions{Config: augmentTestConfig(t, "ops: [fliplr]"), Dataset: src, Out: out})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestAugmentPreviewOnly(t *testing.T) {
	src, _ := augmentTestSource(t, 3)
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sub", "sheet.png")
	sum, err := Augment(context.Background(), AugmentOptions{Config: augmentTestConfig(t, "ops: [fliplr]"), Dataset: src,
		Preview: 2, PreviewOut: sheet, Copies: 3})
	if err != nil {
		t.Fatal(err)
	}
	m := gocv.IMRead(sheet, gocv.IMReadColor)
	defer m.Close()
	if sum.Preview != sheet || m.Rows() != 2*256 || m.Cols() != 4*256 {
		t.Errorf("sheet %s: %dx%d", sum.Preview, m.Cols(), m.Rows())
	}
	entries, _ := os.ReadDir(dir)
	sub, _ := os.ReadDir(filepath.Join(dir, "sub"))
	if len(entries) != 1 || len(sub) != 1 {
		t.Errorf("preview only wrote %v and %v", entries, sub)
	}
	// With a dataset, a --preview-out inside a replaced (--force) output
	// survives the swap.
	out := filepath.Join(dir, "aug")
	o := AugmentOptions{Config: augmentTestConfig(t, "ops: [fliplr]"), Dataset: src, Out: out, Preview: 1}
	for _, force := range []bool{false, true} {
		o.Force = force
		if _, err := Augment(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		o.PreviewOut = filepath.Join(out, "sheet.png")
	}
	for _, f := range []string{AugmentPreviewFile, "sheet.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); (err == nil) != (f == "sheet.png") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Penn-Fudan: copies lose instance ids and boxes, with a note; originals
// keep them.
func TestAugmentInstances(t *testing.T) {
	_, src := augmentTestSource(t, 2)
	out := filepath.Join(t.TempDir(), "aug")
	sum, err := Augment(context.Background(), AugmentOptions{Config: augmentTestConfig(t, "ops: [fliplr]"), Dataset: src, Out: out,
		IncludeOriginals: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Dropped != 2 || sum.Samples != 4 {
		t.Errorf("summary %+v", sum)
	}
	for _, s := range validateDataset(t, out).Samples {
		if s.Parent != "" && (s.Instances != "" || s.Boxes != nil || !slices.Contains(s.Notes, augmentNoteDropped)) {
			t.Errorf("copy %+v", s)
		}
		if s.Parent == "" && (s.Instances == "" || s.Boxes == nil || filepath.Ext(s.Image) != ".png") {
			t.Errorf("original %+v", s)
		}
	}
}

func TestAugmentBench(t *testing.T) {
	src, _ := augmentTestSource(t, 3)
	cfg := augmentTestConfig(t, "ops: [fliplr, {rotate: {angle: [-10, 10]}}]")
	rep, err := AugmentBench(context.Background(), AugmentBenchOptions{Config: cfg, Size: image.Pt(64, 48), N: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != image.Pt(64, 48) || rep.Single.Images != 5 || len(rep.Single.Steps) != 2 || rep.Dataset != nil || rep.Pipeline != "pipeline.yaml" {
		t.Errorf("synthetic: %+v", rep)
	}
	rep, err = AugmentBench(context.Background(), AugmentBenchOptions{Config: cfg, Dataset: src, N: 7, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sample == "" || rep.Size != image.Pt(64, 80) || rep.Dataset == nil || rep.Dataset.Samples != 3 || rep.Dataset.Images != 7 ||
		rep.Dataset.SerialPerSecond() <= 0 || rep.Dataset.ParallelPerSecond() <= 0 {
		t.Errorf("dataset: %+v %+v", rep, rep.Dataset)
	}
	var oe *dataset.OptionError
	if _, err := AugmentBench(context.Background(), AugmentBenchOptions{Config: cfg, Size: image.Pt(8, 8), N: 1}); !errors.As(err, &oe) || oe.Field != "Size" {
		t.Errorf("tiny size: %v", err)
	}
}

// Augmenting an augmented dataset with its originals: the copy <id>_a0 of
// an original and the original <id>_a0 clash; the first keeps the id.
func TestAugmentIDClash(t *testing.T) {
	src, _ := augmentTestSource(t, 1)
	cfg := augmentTestConfig(t, "ops: [fliplr]")
	dir := t.TempDir()
	o := AugmentOptions{Config: cfg, Dataset: src, Out: filepath.Join(dir, "once"), IncludeOriginals: true}
	if _, err := Augment(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	o.Dataset, o.Out = o.Out, filepath.Join(dir, "twice")
	sum, err := Augment(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Selected != 2 || sum.Planned != 3 || sum.Samples != 3 || sum.RejectCodes[dataset.CodeDuplicateID] != 1 {
		t.Errorf("summary %+v", sum)
	}
	d := validateDataset(t, o.Out)
	id := d.Samples[0].ID
	if len(d.Samples) != 3 || d.Samples[1].ID != AugmentCopyID(id, 0) || d.Samples[1].Parent != id || d.Samples[2].ID != AugmentCopyID(AugmentCopyID(id, 0), 0) {
		t.Errorf("rows %+v", d.Samples)
	}
}

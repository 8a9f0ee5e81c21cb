package trimap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/jobs"
)

// buildFolderDataset builds a canonical dataset from a folder-layout
// source with jobs.Build and returns its folder.
func buildFolderDataset(t *testing.T, src string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ds")
	if _, err := jobs.Build(context.Background(), jobs.BuildOptions{Format: "folder", Src: src, Out: out, Workers: 2}); err != nil {
		t.Fatalf("build %s: %v", src, err)
	}
	return out
}

// copyDir copies the regular files of from into to.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dimDataset builds a dataset from ../shared/data/dim: images, alphas
// and the human trimaps.
func dimDataset(t *testing.T) string {
	t.Helper()
	dim := shareddata.Dir(t, "data/dim")
	src := filepath.Join(t.TempDir(), "src")
	for _, sub := range []string{"images", "alphas", "trimaps"} {
		copyDir(t, filepath.Join(dim, sub), filepath.Join(src, sub))
	}
	return buildFolderDataset(t, src)
}

// syntheticDataset builds a dataset of n 64x48 samples with soft discs
// for alphas; the names in zero get an all-zero alpha, those in full an
// all-255 one.
func syntheticDataset(t *testing.T, n int, zero, full []string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	for _, sub := range []string{"images", "alphas"} {
		os.MkdirAll(filepath.Join(src, sub), 0o755)
	}
	const w, h = 64, 48
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		im := syntheticImage(w, h, uint64(i+1))
		alpha := NewGray(w, h)
		cx, cy, r := 28+i%5, 22+i%3, 14.0
		for y := range h {
			for x := range w {
				d := float64((x-cx)*(x-cx) + (y-cy)*(y-cy))
				switch {
				case d <= (r-2)*(r-2):
					alpha.Pix[y*w+x] = 255
				case d <= (r+2)*(r+2):
					alpha.Pix[y*w+x] = uint8(255 * ((r+2)*(r+2) - d) / ((r+2)*(r+2) - (r-2)*(r-2)))
				}
			}
		}
		if slices.Contains(zero, name) {
			clear(alpha.Pix)
		}
		if slices.Contains(full, name) {
			for p := range alpha.Pix {
				alpha.Pix[p] = 255
			}
		}
		if err := errors.Join(WriteImage(filepath.Join(src, "images", name+".png"), im),
			WriteGray(filepath.Join(src, "alphas", name+".png"), alpha)); err != nil {
			t.Fatal(err)
		}
	}
	return buildFolderDataset(t, src)
}

func update(t *testing.T, o DatasetOptions) Summary {
	t.Helper()
	sum, err := UpdateDataset(context.Background(), o)
	if err != nil {
		t.Fatalf("UpdateDataset(%+v): %v", o, err)
	}
	return sum
}

func openDS(t *testing.T, dir string) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func validate(t *testing.T, dir string) {
	t.Helper()
	problems, err := dataset.Validate(context.Background(), openDS(t, dir), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("validate: %s", p)
	}
}

// snapshot maps every file below dir to its modification time and size.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		st, err := e.Info()
		if err != nil {
			return err
		}
		m[p] = fmt.Sprintf("%s %d", st.ModTime().Format(time.RFC3339Nano), st.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readGray(t *testing.T, p string) Gray {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeGray(p, b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestUpdateDatasetDim(t *testing.T) {
	dir := dimDataset(t)
	o := DatasetOptions{Dataset: dir, OutDir: "trimaps-sp", Report: true, Workers: 2}
	sum := update(t, o)
	if sum.Made != 6 || sum.Written != 6 || sum.Rejects+sum.Flagged != 0 || !sum.ManifestChanged || sum.From[FromAlpha] != 6 {
		t.Errorf("summary %+v", sum)
	}
	rep := sum.Report
	if rep == nil || len(rep.Samples) != 6 {
		t.Fatalf("report %+v", rep)
	}
	ratios := map[string]float64{}
	for _, q := range rep.Samples {
		if q.UnknownAreaRatio == nil {
			t.Errorf("%s: no ratio (%s)", q.ID, q.Note)
			continue
		}
		ratios[q.ID] = *q.UnknownAreaRatio
		t.Logf("%s: transition recall %.4f (%d px), unknown-area ratio %.3f (%d / %d px)", q.ID, q.TransitionRecall, q.Transition,
			*q.UnknownAreaRatio, q.Unknown, q.HumanUnknown)
		if q.TransitionRecall < 0.995 {
			t.Errorf("%s: transition recall %.4f < 0.995", q.ID, q.TransitionRecall)
		}
		if q.Reference != "trimaps/"+q.ID+".png" {
			t.Errorf("%s: reference %q", q.ID, q.Reference)
		}
	}
	if m := rep.Mean.UnknownAreaRatio; m == nil || *m > 1.5 {
		t.Errorf("mean unknown-area ratio %v, want <= 1.5", m)
	} else {
		t.Logf("mean: recall %.4f, unknown-area ratio %.3f", rep.Mean.TransitionRecall, *m)
	}
	var onDisk Report
	if b, err := os.ReadFile(filepath.Join(dir, ReportFile)); err != nil || json.Unmarshal(b, &onDisk) != nil || len(onDisk.Samples) != 6 {
		t.Errorf("%s: %v", ReportFile, err)
	}
	for _, s := range openDS(t, dir).Samples {
		out := "trimaps-sp/" + s.ID + ".png"
		if s.Trimap != "trimaps/"+s.ID+".png" {
			t.Errorf("%s: trimap %q, want the human one kept", s.ID, s.Trimap)
		}
		rec := records(s)["trimaps-sp"]
		if rec.Path != out || rec.Method != MethodSuperpixel || rec.From != FromAlpha || rec.Flag != "ok" || rec.SuperpixelCount == 0 ||
			rec.Compactness != DefaultCompactness || s.SHA256[out] == "" {
			t.Errorf("%s: record %+v, sha %q", s.ID, rec, s.SHA256[out])
		}
		for _, v := range readGray(t, filepath.Join(dir, out)).Pix {
			if v != 0 && v != 128 && v != 255 {
				t.Fatalf("%s: trimap value %d", out, v)
			}
		}
	}
	validate(t, dir)

	// A second identical run rewrites nothing.
	before := snapshot(t, dir)
	manifest, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	sum = update(t, o)
	if sum.Made != 0 || sum.Written != 0 || sum.Reused != 6 || sum.ManifestChanged || sum.NewRejectLines != 0 {
		t.Errorf("second run: %+v", sum)
	}
	if after := snapshot(t, dir); !equalMaps(before, after) {
		t.Errorf("second run changed files:\nbefore %v\nafter  %v", before, after)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile)); !bytes.Equal(b, manifest) {
		t.Error("second run changed the manifest")
	}
	if len(sum.Report.Samples) != 6 || *sum.Report.Mean.UnknownAreaRatio != *rep.Mean.UnknownAreaRatio {
		t.Errorf("second run's report differs: %+v", sum.Report.Mean)
	}

	// The human trimaps' folder needs --force.
	o.OutDir = ""
	_, err := UpdateDataset(context.Background(), o)
	var oe *OptionError
	if !errors.Is(err, ErrWouldOverwrite) || !errors.As(err, &oe) || !strings.Contains(oe.Option, "--force") {
		t.Fatalf("overwriting the human trimaps without Force: %v", err)
	}
	o.Force = true
	sum = update(t, o)
	if sum.Made != 6 {
		t.Errorf("forced run: %+v", sum)
	}
	for _, q := range sum.Report.Samples { // compared with the human trimap it replaced
		if q.UnknownAreaRatio == nil || *q.UnknownAreaRatio != ratios[q.ID] {
			t.Errorf("%s: forced run's ratio %v, want %v", q.ID, q.UnknownAreaRatio, ratios[q.ID])
		}
	}
	for _, s := range openDS(t, dir).Samples {
		recs := records(s)
		if s.Trimap != "trimaps/"+s.ID+".png" || recs["trimaps"].Path != s.Trimap || recs["trimaps-sp"].Path == "" {
			t.Errorf("%s: after --force: trimap %q, records %v", s.ID, s.Trimap, recs)
		}
	}
	validate(t, dir)
	// Now the trimaps are segtool's own: no Force needed, nothing to do,
	// and no reference left for the ratio.
	o.Force = false
	sum = update(t, o)
	if sum.Made != 0 || sum.Reused != 6 || sum.Report.Mean.WithRatio != 0 {
		t.Errorf("run after --force: %+v, mean %+v", sum, sum.Report.Mean)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUpdateDatasetWorkers: the same options give byte-identical trimaps,
// manifest and rejects with 1 and 2 workers.
func TestUpdateDatasetWorkers(t *testing.T) {
	for _, o := range []DatasetOptions{
		{Method: MethodErode, Morph: MorphOptions{MinWidth: 1, MaxWidth: 12, Seed: 7}, OutDir: "trimaps-morph"},
		{Method: MethodSuperpixel, Superpixel: SuperpixelOptions{SLIC: SLICOptions{Superpixels: 30}}},
	} {
		var dirs []string
		for _, workers := range []int{1, 2} {
			dir := syntheticDataset(t, 5, []string{"s3"}, nil)
			o.Dataset, o.Workers = dir, workers
			update(t, o)
			dirs = append(dirs, dir)
		}
		files := func(dir string) map[string][]byte {
			m := map[string][]byte{}
			for _, sub := range []string{o.OutDir, dataset.ManifestFile, dataset.RejectsFile} {
				if sub == "" {
					sub = DefaultOutDir
				}
				filepath.WalkDir(filepath.Join(dir, sub), func(p string, e fs.DirEntry, err error) error {
					if err == nil && !e.IsDir() {
						rel, _ := filepath.Rel(dir, p)
						m[rel], _ = os.ReadFile(p)
					}
					return err
				})
			}
			return m
		}
		a, b := files(dirs[0]), files(dirs[1])
		if len(a) != 5+2 || len(a) != len(b) {
			t.Fatalf("%s: files %d and %d, want 7", o.Method, len(a), len(b))
		}
		for k, v := range a {
			if !bytes.Equal(v, b[k]) {
				t.Errorf("%s: %s differs between 1 and 2 workers", o.Method, k)
			}
		}
		if o.Method == MethodErode {
			// The widths are drawn per sample and side from the range.
			for _, s := range openDS(t, dirs[0]).Samples {
				w := records(s)["trimaps-morph"].Widths
				if len(w) != 2 || w[0] < 1 || w[0] > 12 || w[1] < 1 || w[1] > 12 {
					t.Errorf("%s: widths %v", s.ID, w)
				}
			}
		}
	}
}

func TestUpdateDatasetPredictions(t *testing.T) {
	dir := dimDataset(t)
	preds := filepath.Join(t.TempDir(), "preds")
	copyDir(t, filepath.Join(shareddata.Dir(t, "data/dim"), "predictions"), preds)
	os.Remove(filepath.Join(preds, "dim2.png"))
	if err := WriteGray(filepath.Join(preds, "dim3.png"), NewGray(10, 12)); err != nil {
		t.Fatal(err)
	}
	o := DatasetOptions{Dataset: dir, From: "preds:" + preds, OutDir: "trimaps-pred", Report: true, Workers: 2}
	sum := update(t, o)
	if sum.Made != 4 || sum.Rejects != 2 || sum.RejectCodes[dataset.CodeMissingPartner] != 1 ||
		sum.RejectCodes[dataset.CodeSizeMismatch] != 1 || sum.NewRejectLines != 2 || sum.From["preds"] != 4 {
		t.Errorf("summary %+v", sum)
	}
	for _, q := range sum.Report.Samples {
		t.Logf("%s: from predictions: recall %.4f against the true alpha, ratio %.3f", q.ID, q.TransitionRecall, *q.UnknownAreaRatio)
	}
	rejects, _ := dataset.ReadRejects(dir)
	var ours []string
	for _, r := range rejects {
		if r.Stage == "trimap" {
			ours = append(ours, r.ID+" "+r.Code)
			if r.Kept || len(r.Source) != 1 || !strings.HasPrefix(r.Source[0], preds) {
				t.Errorf("reject %+v", r)
			}
		}
	}
	if !slices.Equal(ours, []string{"dim2 missing-partner", "dim3 size-mismatch"}) {
		t.Errorf("reject lines %v", ours)
	}
	for _, s := range openDS(t, dir).Samples {
		_, has := s.SHA256["trimaps-pred/"+s.ID+".png"]
		if has == (s.ID == "dim2" || s.ID == "dim3") {
			t.Errorf("%s: has a trimap from predictions: %v", s.ID, has)
		}
		if rec, ok := records(s)["trimaps-pred"]; ok && (rec.From != "preds:"+preds || rec.Matte != filepath.Join(preds, s.ID+".png")) {
			t.Errorf("%s: record %+v", s.ID, rec)
		}
	}
	validate(t, dir)
	// Again: the rejects are not repeated, nothing is rewritten.
	before := snapshot(t, dir)
	sum = update(t, o)
	if sum.Reused != 4 || sum.Rejects != 2 || sum.NewRejectLines != 0 {
		t.Errorf("second run: %+v", sum)
	}
	if !equalMaps(before, snapshot(t, dir)) {
		t.Error("second run changed files")
	}
	// A changed prediction is noticed.
	if err := WriteGray(filepath.Join(preds, "dim3.png"), NewGray(320, 320)); err != nil {
		t.Fatal(err)
	}
	if sum = update(t, o); sum.Made != 1 || sum.Flagged != 1 {
		t.Errorf("after fixing dim3's prediction (all zero): %+v", sum)
	}
}

func TestUpdateDatasetFlatMattes(t *testing.T) {
	for _, method := range []string{MethodSuperpixel, MethodErode} {
		dir := syntheticDataset(t, 3, []string{"s1"}, []string{"s2"})
		sum := update(t, DatasetOptions{Dataset: dir, Method: method, Workers: 2, Report: true})
		if sum.Made != 3 || sum.Flagged != 2 || sum.Rejects != 0 || sum.RejectCodes[dataset.CodeEmptyMask] != 1 || sum.RejectCodes[CodeFullMatte] != 1 {
			t.Errorf("%s: summary %+v", method, sum)
		}
		for id, want := range map[string]uint8{"s1": Background, "s2": Foreground} {
			for _, v := range readGray(t, filepath.Join(dir, "trimaps", id+".png")).Pix {
				if v != want {
					t.Fatalf("%s: %s has value %d, want all %d", method, id, v, want)
				}
			}
		}
		rejects, _ := dataset.ReadRejects(dir)
		n := 0
		for _, r := range rejects {
			if r.Stage == "trimap" {
				n++
				if !r.Kept || (r.ID != "s1" && r.ID != "s2") {
					t.Errorf("%s: reject %+v", method, r)
				}
			}
		}
		if n != 2 {
			t.Errorf("%s: %d trimap reject lines, want 2", method, n)
		}
		for _, s := range openDS(t, dir).Samples {
			if s.Trimap != "trimaps/"+s.ID+".png" {
				t.Errorf("%s: %s: trimap %q", method, s.ID, s.Trimap)
			}
		}
		validate(t, dir)
		// Kept means still flagged on a second run, without a new line.
		if sum = update(t, DatasetOptions{Dataset: dir, Method: method, Workers: 2}); sum.Flagged != 2 || sum.NewRejectLines != 0 || sum.Reused != 3 {
			t.Errorf("%s: second run %+v", method, sum)
		}
	}
}

func TestUpdateDatasetBadInputs(t *testing.T) {
	dir := syntheticDataset(t, 4, nil, nil)
	os.Remove(filepath.Join(dir, "images", "s0.png"))
	os.Remove(filepath.Join(dir, "alphas", "s1.png"))
	if err := WriteGray(filepath.Join(dir, "alphas", "s2.png"), NewGray(20, 20)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "alphas", "s3.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	sum, err := UpdateDataset(context.Background(), DatasetOptions{Dataset: dir, Workers: 2})
	if !errors.Is(err, ErrNoTrimaps) || sum.Rejects != 4 {
		t.Errorf("every sample bad: %v, %+v", err, sum)
	}
	rejects, _ := dataset.ReadRejects(dir)
	got := map[string]string{}
	for _, r := range rejects {
		if r.Stage == "trimap" {
			got[r.ID] = r.Code
		}
	}
	want := map[string]string{"s0": dataset.CodeMissingPartner, "s1": dataset.CodeMissingPartner, "s2": dataset.CodeSizeMismatch, "s3": dataset.CodeTruncated}
	if !equalMaps(got, want) {
		t.Errorf("reject codes %v, want %v", got, want)
	}
	for _, s := range openDS(t, dir).Samples {
		if s.Trimap != "" || len(s.Extra) != 0 {
			t.Errorf("%s: a rejected row changed: %+v", s.ID, s)
		}
	}
}

func TestUpdateDatasetOptionErrors(t *testing.T) {
	dir := syntheticDataset(t, 1, nil, nil)
	for _, tc := range []struct {
		o    DatasetOptions
		flag string
		is   error
	}{
		{DatasetOptions{Dataset: dir + "-missing"}, "--dataset", nil},
		{DatasetOptions{Dataset: dir, Method: "watershed"}, "--method", nil},
		{DatasetOptions{Dataset: dir, From: "trimap"}, "--from", nil},
		{DatasetOptions{Dataset: dir, From: "preds:" + dir + "-missing"}, "--from", nil},
		{DatasetOptions{Dataset: dir, OutDir: "../elsewhere"}, "--out-dir", nil},
		{DatasetOptions{Dataset: dir, OutDir: "masks"}, "--out-dir", nil},
		{DatasetOptions{Dataset: dir, Superpixel: SuperpixelOptions{SLIC: SLICOptions{Superpixels: 64*48 + 1}}}, "--superpixels", ErrSuperpixelCount},
		{DatasetOptions{Dataset: dir, Superpixel: SuperpixelOptions{SLIC: SLICOptions{Superpixels: -1}}}, "--superpixels", ErrSuperpixelCount},
		{DatasetOptions{Dataset: dir, Superpixel: SuperpixelOptions{SLIC: SLICOptions{Compactness: -1}}}, "--compactness", nil},
		{DatasetOptions{Dataset: dir, Superpixel: SuperpixelOptions{FGThresh: 0.2, BGThresh: 0.5}}, "--fg-thresh", nil},
		{DatasetOptions{Dataset: dir, Superpixel: SuperpixelOptions{MaxBand: -2}}, "--max-band", nil},
		{DatasetOptions{Dataset: dir, Method: MethodErode, Morph: MorphOptions{MinWidth: 9, MaxWidth: 3}}, "--width-range", nil},
		{DatasetOptions{Dataset: dir, Method: MethodErode, Morph: MorphOptions{Width: -3}}, "--width", nil},
	} {
		_, err := UpdateDataset(context.Background(), tc.o)
		var oe *OptionError
		if !errors.As(err, &oe) || !strings.Contains(oe.Option, tc.flag) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%+v: error %v, want an OptionError naming %s", tc.o, err, tc.flag)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultOutDir)); err == nil {
		t.Error("an option error left a trimaps folder behind")
	}
}

func TestUpdateDatasetCancel(t *testing.T) {
	dir := syntheticDataset(t, 3, nil, nil)
	manifest, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := UpdateDataset(ctx, DatasetOptions{Dataset: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile)); !bytes.Equal(b, manifest) {
		t.Error("a run cancelled before any sample changed the manifest")
	}
	// Cancelled after the first sample: that one is saved, a rerun does
	// the rest.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, err := UpdateDataset(ctx, DatasetOptions{Dataset: dir, Workers: 1, Progress: func(done, total int) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run cancelled after a sample: %v", err)
	}
	n := 0
	for _, s := range openDS(t, dir).Samples {
		if s.Trimap != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rows saved after cancelling at the first sample, want 1", n)
	}
	validate(t, dir)
	if sum := update(t, DatasetOptions{Dataset: dir, Workers: 1}); sum.Reused != 1 || sum.Made != 2 {
		t.Errorf("rerun: %+v", sum)
	}
}

func TestTimeSLIC(t *testing.T) {
	im := syntheticImage(50, 40, 3)
	for _, workers := range []int{1, 0} {
		tm, err := TimeSLIC(context.Background(), im, SLICOptions{Superpixels: 20, Workers: workers}, 2)
		if err != nil || tm.Runs != 2 || tm.Superpixels == 0 || tm.MsPerMegapixel() <= 0 {
			t.Errorf("workers %d: %+v, %v", workers, tm, err)
		}
	}
	if _, err := TimeSLIC(context.Background(), im, SLICOptions{}, 0); err == nil {
		t.Error("0 runs accepted")
	}
}

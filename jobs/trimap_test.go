package jobs

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
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/trimap"
)

// trimapBuildFolderDataset builds a canonical dataset from a folder-layout
// source with Build and returns its folder.
func trimapBuildFolderDataset(t *testing.T, src string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ds")
	if _, err := Build(context.Background(), BuildOptions{Format: "folder", Src: src, Out: out, RunOptions: RunOptions{Workers: 2}}); err != nil {
		t.Fatalf("build %s: %v", src, err)
	}
	return out
}

// trimapCopyDir copies the regular files of from into to.
func trimapCopyDir(t *testing.T, from, to string) {
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

// trimapDimDataset builds a dataset from ../shared/data/dim: images, alphas
// and the human trimaps.
func trimapDimDataset(t *testing.T) string {
	t.Helper()
	dim := shareddata.Dir(t, "data/dim")
	src := filepath.Join(t.TempDir(), "src")
	for _, sub := range []string{"images", "alphas", "trimaps"} {
		trimapCopyDir(t, filepath.Join(dim, sub), filepath.Join(src, sub))
	}
	return trimapBuildFolderDataset(t, src)
}

// trimapSyntheticImage is a w x h image with smooth gradients, random
// discs and noise, so that SLIC has structure to follow.
func trimapSyntheticImage(w, h int, seed uint64) trimap.Image {
	return trimap.Image{W: w, H: h, Pix: fixture.SyntheticBGR(w, h, seed)}
}

// trimapSyntheticDataset builds a dataset of n 64x48 samples with soft discs
// for alphas; the names in zero get an all-zero alpha, those in full an
// all-255 one.
func trimapSyntheticDataset(t *testing.T, n int, zero, full []string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	for _, sub := range []string{"images", "alphas"} {
		os.MkdirAll(filepath.Join(src, sub), 0o755)
	}
	const w, h = 64, 48
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		im := trimapSyntheticImage(w, h, uint64(i+1))
		alpha := trimap.NewGray(w, h)
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
		if err := errors.Join(trimap.WriteImage(filepath.Join(src, "images", name+".png"), im),
			trimap.WriteGray(filepath.Join(src, "alphas", name+".png"), alpha)); err != nil {
			t.Fatal(err)
		}
	}
	return trimapBuildFolderDataset(t, src)
}

func trimapUpdate(t *testing.T, o TrimapOptions) TrimapSummary {
	t.Helper()
	sum, err := Trimap(context.Background(), o)
	if err != nil {
		t.Fatalf("Trimap(%+v): %v", o, err)
	}
	return sum
}

// trimapSnapshot maps every file below dir to its modification time and size.
func trimapSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	eachFile(t, dir, func(p string, e fs.DirEntry) error {
		st, err := e.Info()
		if err != nil {
			return err
		}
		m[p] = fmt.Sprintf("%s %d", st.ModTime().Format(time.RFC3339Nano), st.Size())
		return nil
	})
	return m
}

func trimapReadGray(t *testing.T, p string) trimap.Gray {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	g, err := trimapDecodeGray(dataset.Decoder{}, p, b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestTrimapDim(t *testing.T) {
	dir := trimapDimDataset(t)
	o := TrimapOptions{Dataset: dir, OutDir: "trimaps-sp", Report: true, Workers: 2}
	sum := trimapUpdate(t, o)
	if sum.Made != 6 || sum.Written != 6 || sum.Rejects+sum.Flagged != 0 || !sum.ManifestChanged || sum.From[TrimapFromAlpha] != 6 {
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
	var onDisk TrimapReport
	if b, err := os.ReadFile(filepath.Join(dir, TrimapReportFile)); err != nil || json.Unmarshal(b, &onDisk) != nil || len(onDisk.Samples) != 6 {
		t.Errorf("%s: %v", TrimapReportFile, err)
	}
	for _, s := range openDataset(t, dir).Samples {
		out := "trimaps-sp/" + s.ID + ".png"
		if s.Trimap != "trimaps/"+s.ID+".png" {
			t.Errorf("%s: trimap %q, want the human one kept", s.ID, s.Trimap)
		}
		rec := trimapRecords(s)["trimaps-sp"]
		if rec.Path != out || rec.Method != TrimapMethodSuperpixel || rec.From != TrimapFromAlpha || rec.Flag != "ok" || rec.SuperpixelCount == 0 ||
			rec.Compactness != trimap.DefaultCompactness || s.SHA256[out] == "" {
			t.Errorf("%s: record %+v, sha %q", s.ID, rec, s.SHA256[out])
		}
		for _, v := range trimapReadGray(t, filepath.Join(dir, out)).Pix {
			if v != 0 && v != 128 && v != 255 {
				t.Fatalf("%s: trimap value %d", out, v)
			}
		}
	}
	validateDataset(t, dir)

	// A second identical run rewrites nothing.
	before := trimapSnapshot(t, dir)
	manifest, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	sum = trimapUpdate(t, o)
	if sum.Made != 0 || sum.Written != 0 || sum.Reused != 6 || sum.ManifestChanged || sum.NewRejectLines != 0 {
		t.Errorf("second run: %+v", sum)
	}
	if after := trimapSnapshot(t, dir); !trimapEqualMaps(before, after) {
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
	_, err := Trimap(context.Background(), o)
	var oe *dataset.OptionError
	if !errors.Is(err, ErrTrimapWouldOverwrite) || !errors.As(err, &oe) || !slices.Contains(strings.Split(oe.Field, "/"), "Force") {
		t.Fatalf("overwriting the human trimaps without Force: %v", err)
	}
	o.Force = true
	sum = trimapUpdate(t, o)
	if sum.Made != 6 {
		t.Errorf("forced run: %+v", sum)
	}
	for _, q := range sum.Report.Samples { // compared with the human trimap it replaced
		if q.UnknownAreaRatio == nil || *q.UnknownAreaRatio != ratios[q.ID] {
			t.Errorf("%s: forced run's ratio %v, want %v", q.ID, q.UnknownAreaRatio, ratios[q.ID])
		}
	}
	for _, s := range openDataset(t, dir).Samples {
		recs := trimapRecords(s)
		if s.Trimap != "trimaps/"+s.ID+".png" || recs["trimaps"].Path != s.Trimap || recs["trimaps-sp"].Path == "" {
			t.Errorf("%s: after --force: trimap %q, records %v", s.ID, s.Trimap, recs)
		}
	}
	validateDataset(t, dir)
	// Now the trimaps are segtool's own: no Force needed, nothing to do,
	// and no reference left for the ratio.
	o.Force = false
	sum = trimapUpdate(t, o)
	if sum.Made != 0 || sum.Reused != 6 || sum.Report.Mean.WithRatio != 0 {
		t.Errorf("run after --force: %+v, mean %+v", sum, sum.Report.Mean)
	}
}

func trimapEqualMaps(a, b map[string]string) bool {
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

// TestTrimapWorkers: the same options give byte-identical trimaps,
// manifest and rejects with 1 and 2 workers.
func TestTrimapWorkers(t *testing.T) {
	for _, o := range []TrimapOptions{
		{Method: TrimapMethodErode, Morph: trimap.MorphOptions{MinWidth: 1, MaxWidth: 12, Seed: 7}, OutDir: "trimaps-morph"},
		{Method: TrimapMethodSuperpixel, Superpixel: trimap.SuperpixelOptions{SLIC: trimap.SLICOptions{Superpixels: 30}}},
	} {
		var dirs []string
		for _, workers := range []int{1, 2} {
			dir := trimapSyntheticDataset(t, 5, []string{"s3"}, nil)
			o.Dataset, o.Workers = dir, workers
			trimapUpdate(t, o)
			dirs = append(dirs, dir)
		}
		files := func(dir string) map[string][]byte {
			m := map[string][]byte{}
			for _, sub := range []string{o.OutDir, dataset.ManifestFile, dataset.RejectsFile} {
				if sub == "" {
					sub = TrimapDefaultOutDir
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
		if o.Method == TrimapMethodErode {
			// The widths are drawn per sample and side from the range.
			for _, s := range openDataset(t, dirs[0]).Samples {
				w := trimapRecords(s)["trimaps-morph"].Widths
				if len(w) != 2 || w[0] < 1 || w[0] > 12 || w[1] < 1 || w[1] > 12 {
					t.Errorf("%s: widths %v", s.ID, w)
				}
			}
		}
	}
}

func TestTrimapPredictions(t *testing.T) {
	dir := trimapDimDataset(t)
	preds := filepath.Join(t.TempDir(), "preds")
	trimapCopyDir(t, filepath.Join(shareddata.Dir(t, "data/dim"), "predictions"), preds)
	os.Remove(filepath.Join(preds, "dim2.png"))
	if err := trimap.WriteGray(filepath.Join(preds, "dim3.png"), trimap.NewGray(10, 12)); err != nil {
		t.Fatal(err)
	}
	o := TrimapOptions{Dataset: dir, From: "preds:" + preds, OutDir: "trimaps-pred", Report: true, Workers: 2}
	sum := trimapUpdate(t, o)
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
	for _, s := range openDataset(t, dir).Samples {
		_, has := s.SHA256["trimaps-pred/"+s.ID+".png"]
		if has == (s.ID == "dim2" || s.ID == "dim3") {
			t.Errorf("%s: has a trimap from predictions: %v", s.ID, has)
		}
		if rec, ok := trimapRecords(s)["trimaps-pred"]; ok && (rec.From != "preds:"+preds || rec.Matte != filepath.Join(preds, s.ID+".png")) {
			t.Errorf("%s: record %+v", s.ID, rec)
		}
	}
	validateDataset(t, dir)
	// Again: the rejects are not repeated, nothing is rewritten.
	before := trimapSnapshot(t, dir)
	sum = trimapUpdate(t, o)
	if sum.Reused != 4 || sum.Rejects != 2 || sum.NewRejectLines != 0 {
		t.Errorf("second run: %+v", sum)
	}
	if !trimapEqualMaps(before, trimapSnapshot(t, dir)) {
		t.Error("second run changed files")
	}
	// A changed prediction is noticed.
	if err := trimap.WriteGray(filepath.Join(preds, "dim3.png"), trimap.NewGray(320, 320)); err != nil {
		t.Fatal(err)
	}
	if sum = trimapUpdate(t, o); sum.Made != 1 || sum.Flagged != 1 {
		t.Errorf("after fixing dim3's prediction (all zero): %+v", sum)
	}
}

func TestTrimapFlatMattes(t *testing.T) {
	for _, method := range []string{TrimapMethodSuperpixel, TrimapMethodErode} {
		dir := trimapSyntheticDataset(t, 3, []string{"s1"}, []string{"s2"})
		sum := trimapUpdate(t, TrimapOptions{Dataset: dir, Method: method, Workers: 2, Report: true})
		if sum.Made != 3 || sum.Flagged != 2 || sum.Rejects != 0 || sum.RejectCodes[dataset.CodeEmptyMask] != 1 || sum.RejectCodes[TrimapCodeFullMatte] != 1 {
			t.Errorf("%s: summary %+v", method, sum)
		}
		for id, want := range map[string]uint8{"s1": trimap.Background, "s2": trimap.Foreground} {
			for _, v := range trimapReadGray(t, filepath.Join(dir, "trimaps", id+".png")).Pix {
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
		for _, s := range openDataset(t, dir).Samples {
			if s.Trimap != "trimaps/"+s.ID+".png" {
				t.Errorf("%s: %s: trimap %q", method, s.ID, s.Trimap)
			}
		}
		validateDataset(t, dir)
		// Kept means still flagged on a second run, without a new line.
		if sum = trimapUpdate(t, TrimapOptions{Dataset: dir, Method: method, Workers: 2}); sum.Flagged != 2 || sum.NewRejectLines != 0 || sum.Reused != 3 {
			t.Errorf("%s: second run %+v", method, sum)
		}
	}
}

func TestTrimapBadInputs(t *testing.T) {
	dir := trimapSyntheticDataset(t, 4, nil, nil)
	os.Remove(filepath.Join(dir, "images", "s0.png"))
	os.Remove(filepath.Join(dir, "alphas", "s1.png"))
	if err := trimap.WriteGray(filepath.Join(dir, "alphas", "s2.png"), trimap.NewGray(20, 20)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "alphas", "s3.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	sum, err := Trimap(context.Background(), TrimapOptions{Dataset: dir, Workers: 2})
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
	if !trimapEqualMaps(got, want) {
		t.Errorf("reject codes %v, want %v", got, want)
	}
	for _, s := range openDataset(t, dir).Samples {
		if s.Trimap != "" || len(s.Extra) != 0 {
			t.Errorf("%s: a rejected row changed: %+v", s.ID, s)
		}
	}
}

func TestTrimapOptionErrors(t *testing.T) {
	dir := trimapSyntheticDataset(t, 1, nil, nil)
	for _, tc := range []struct {
		o     TrimapOptions
		field string
		is    error
	}{
		{TrimapOptions{Dataset: dir + "-missing"}, "Dataset", nil},
		{TrimapOptions{Dataset: dir, Method: "watershed"}, "Method", nil},
		{TrimapOptions{Dataset: dir, From: "trimap"}, "From", nil},
		{TrimapOptions{Dataset: dir, From: "preds:" + dir + "-missing"}, "From", nil},
		{TrimapOptions{Dataset: dir, OutDir: "../elsewhere"}, "OutDir", nil},
		{TrimapOptions{Dataset: dir, OutDir: "masks"}, "OutDir", nil},
		{TrimapOptions{Dataset: dir, Superpixel: trimap.SuperpixelOptions{SLIC: trimap.SLICOptions{Superpixels: 64*48 + 1}}}, "Superpixels", trimap.ErrSuperpixelCount},
		{TrimapOptions{Dataset: dir, Superpixel: trimap.SuperpixelOptions{SLIC: trimap.SLICOptions{Superpixels: -1}}}, "Superpixels", trimap.ErrSuperpixelCount},
		{TrimapOptions{Dataset: dir, Superpixel: trimap.SuperpixelOptions{SLIC: trimap.SLICOptions{Compactness: -1}}}, "Compactness", nil},
		{TrimapOptions{Dataset: dir, Superpixel: trimap.SuperpixelOptions{FGThresh: 0.2, BGThresh: 0.5}}, "FGThresh", nil},
		{TrimapOptions{Dataset: dir, Superpixel: trimap.SuperpixelOptions{MaxBand: -2}}, "MaxBand", nil},
		{TrimapOptions{Dataset: dir, Method: TrimapMethodErode, Morph: trimap.MorphOptions{MinWidth: 9, MaxWidth: 3}}, "WidthRange", nil},
		{TrimapOptions{Dataset: dir, Method: TrimapMethodErode, Morph: trimap.MorphOptions{Width: -3}}, "Width", nil},
	} {
		_, err := Trimap(context.Background(), tc.o)
		var oe *dataset.OptionError
		if !errors.As(err, &oe) || !slices.Contains(strings.Split(oe.Field, "/"), tc.field) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%+v: error %v, want an OptionError naming %s", tc.o, err, tc.field)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, TrimapDefaultOutDir)); err == nil {
		t.Error("an option error left a trimaps folder behind")
	}
}

func TestTrimapCancel(t *testing.T) {
	dir := trimapSyntheticDataset(t, 3, nil, nil)
	manifest, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Trimap(ctx, TrimapOptions{Dataset: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, dataset.ManifestFile)); !bytes.Equal(b, manifest) {
		t.Error("a run cancelled before any sample changed the manifest")
	}
	// Cancelled after the first sample: that one is saved, a rerun does
	// the rest.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, err := Trimap(ctx, TrimapOptions{Dataset: dir, Workers: 1, Progress: func(done, total int) { cancel() }})
	// Not ErrInterrupted: the hint to rerun with --resume is not for an update.
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrInterrupted) {
		t.Fatalf("run cancelled after a sample: %v", err)
	}
	if want := "interrupted after 1 of 3 samples (those are saved; rerun to finish): context canceled"; err.Error() != want {
		t.Errorf("interrupted: %q, want %q", err, want)
	}
	n := 0
	for _, s := range openDataset(t, dir).Samples {
		if s.Trimap != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rows saved after cancelling at the first sample, want 1", n)
	}
	validateDataset(t, dir)
	if sum := trimapUpdate(t, TrimapOptions{Dataset: dir, Workers: 1}); sum.Reused != 1 || sum.Made != 2 {
		t.Errorf("rerun: %+v", sum)
	}
}

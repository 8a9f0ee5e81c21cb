package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/matfile"
	"gocv.io/x/gocv"
)

// buildExpectation is what a fixture must produce.
type buildExpectation struct {
	samples int
	rejects map[string]int // code -> count, rejected and flagged together
	masks   map[string][]byte
	alphas  map[string][]byte
	splits  map[string]string // id -> split, where the source fixes it
}

func buildT(t *testing.T, src, out string, o BuildOptions) BuildSummary {
	t.Helper()
	o.Src, o.Out = src, out
	if o.Workers == 0 {
		o.Workers = 2
	}
	sum, err := Build(context.Background(), o)
	if err != nil {
		t.Fatalf("Build(%s): %v", filepath.Base(src), err)
	}
	return sum
}

func buildCheck(t *testing.T, out string, sum BuildSummary, want buildExpectation) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != want.samples || sum.Samples != want.samples {
		t.Errorf("samples: manifest %d, summary %d, want %d", len(d.Samples), sum.Samples, want.samples)
	}
	if !reflect.DeepEqual(sum.RejectCodes, want.rejects) {
		t.Errorf("reject codes %v, want %v", sum.RejectCodes, want.rejects)
	}
	rejects, _ := dataset.ReadRejects(out)
	if len(rejects) != sum.Rejects+sum.Flagged {
		t.Errorf("rejects.jsonl has %d lines, summary says %d", len(rejects), sum.Rejects+sum.Flagged)
	}
	for _, r := range rejects {
		if len(r.Source) == 0 || r.Reason == "" {
			t.Errorf("reject without source or reason: %+v", r)
		}
	}
	for _, s := range d.Samples {
		if m, ok := want.masks[s.ID]; ok {
			got, w, h := fixture.ReadPlane(t, d.Path(s.Mask))
			if w != s.Width || h != s.Height {
				t.Errorf("%s: mask %dx%d, row says %dx%d", s.ID, w, h, s.Width, s.Height)
			}
			if !bytes.Equal(got, m) {
				t.Errorf("%s: mask differs from the expected person mask in %d pixels", s.ID, buildDiffCount(got, m))
			}
			fg := 0
			for _, v := range m {
				if v == 255 {
					fg++
				}
			}
			if want := float64(fg) / float64(len(m)); s.FGFrac != want {
				t.Errorf("%s: fg_fraction %v, want %v", s.ID, s.FGFrac, want)
			}
		} else {
			t.Errorf("unexpected sample id %s", s.ID)
		}
		if a, ok := want.alphas[s.ID]; ok {
			got, _, _ := fixture.ReadPlane(t, d.Path(s.Alpha))
			if !bytes.Equal(got, a) {
				t.Errorf("%s: alpha differs in %d pixels", s.ID, buildDiffCount(got, a))
			}
		}
		if sp, ok := want.splits[s.ID]; ok && s.Split != sp {
			t.Errorf("%s: split %s, want %s", s.ID, s.Split, sp)
		}
	}
	problems, err := dataset.Validate(context.Background(), d, 2, nil)
	if err != nil || len(problems) > 0 {
		t.Errorf("validate: %v %v", err, problems)
	}
	return d
}

func buildDiffCount(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func buildHalfSize(m gocv.Mat) gocv.Mat {
	out := gocv.NewMat()
	gocv.Resize(m, &out, image.Pt(m.Cols()/2, m.Rows()/2), 0, 0, gocv.InterpolationArea)
	return out
}

// buildFolderFixture writes the people-parts photos in the folder layout with
// three planted bad inputs and one mask stored as 0/200.
func buildFolderFixture(t *testing.T, root string, pp []fixture.RealSample) buildExpectation {
	fixture.Mkdirs(t, root, "images", "masks")
	want := buildExpectation{samples: len(pp), masks: map[string][]byte{},
		rejects: map[string]int{dataset.CodeTruncated: 1, dataset.CodeAppleDouble: 1, dataset.CodeSizeMismatch: 1}}
	for i, s := range pp {
		fixture.WriteMat(t, filepath.Join(root, "images", s.Name+".png"), s.Img)
		m := s.Mask
		if i == len(pp)-1 {
			m = bytes.ReplaceAll(append([]byte(nil), m...), []byte{255}, []byte{200})
		}
		fixture.WritePlane(t, filepath.Join(root, "masks", s.Name+".png"), m, s.W, s.H)
		want.masks[dataset.ID(s.Name)] = s.Mask
	}
	fixture.PlantTruncatedJPEG(t, filepath.Join(root, "images", "trunc.jpg"), pp[0].Img)
	fixture.WritePlane(t, filepath.Join(root, "masks", "trunc.png"), pp[0].Mask, pp[0].W, pp[0].H)
	fixture.PlantAppleDouble(t, filepath.Join(root, "images", "._"+pp[0].Name+".png"))
	small := buildHalfSize(pp[1].Img)
	defer small.Close()
	fixture.WriteMat(t, filepath.Join(root, "images", "mismatch.png"), small)
	fixture.WritePlane(t, filepath.Join(root, "masks", "mismatch.png"), pp[1].Mask, pp[1].W, pp[1].H)
	return want
}

func TestBuildFolder(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src, out := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "ds")
	want := buildFolderFixture(t, src, pp)
	sum := buildT(t, src, out, BuildOptions{Format: "auto"})
	if sum.Format != "folder" {
		t.Errorf("detected %s, want folder", sum.Format)
	}
	if sum.Thresholded != 1 {
		t.Errorf("thresholded %d masks, want 1", sum.Thresholded)
	}
	buildCheck(t, out, sum, want)
}

func TestBuildPennFudan(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src, out := filepath.Join(t.TempDir(), "PennFudanPed"), filepath.Join(t.TempDir(), "ds")
	fixture.Mkdirs(t, src, "PNGImages", "PedMasks", "Annotation")
	want := buildExpectation{samples: len(pp), masks: map[string][]byte{},
		rejects: map[string]int{dataset.CodeTruncated: 1, dataset.CodeAppleDouble: 1, dataset.CodeSizeMismatch: 1}}
	wantBoxes := map[string][][4]float64{}
	wantIDs := map[string][]byte{}
	for i, s := range pp {
		stem := fmt.Sprintf("FudanPed%05d", i+1)
		ids, boxes := fixture.InstanceIDs(s.Mask, s.W, s.H)
		fixture.WriteMat(t, filepath.Join(src, "PNGImages", stem+".png"), s.Img)
		fixture.WritePlane(t, filepath.Join(src, "PedMasks", stem+"_mask.png"), ids, s.W, s.H)
		os.WriteFile(filepath.Join(src, "Annotation", stem+".txt"), []byte(fixture.PascalAnnotation(stem, s.W, s.H, boxes)), 0o644)
		want.masks[stem] = s.Mask
		wantIDs[stem] = ids
		for _, b := range boxes {
			wantBoxes[stem] = append(wantBoxes[stem], [4]float64{float64(b[0] - 1), float64(b[1] - 1), float64(b[2] - 1), float64(b[3] - 1)})
		}
	}
	fixture.PlantTruncatedJPEG(t, filepath.Join(src, "PNGImages", "FudanPed09999.png"), pp[0].Img)
	fixture.WritePlane(t, filepath.Join(src, "PedMasks", "FudanPed09999_mask.png"), pp[0].Mask, pp[0].W, pp[0].H)
	fixture.PlantAppleDouble(t, filepath.Join(src, "PNGImages", "._FudanPed00001.png"))
	small := buildHalfSize(pp[1].Img)
	defer small.Close()
	fixture.WriteMat(t, filepath.Join(src, "PNGImages", "FudanPed08888.png"), small)
	fixture.WritePlane(t, filepath.Join(src, "PedMasks", "FudanPed08888_mask.png"), pp[1].Mask, pp[1].W, pp[1].H)
	// Planted bad inputs have no annotation: each is rejected for its
	// content, and the missing annotation is flagged as well.
	want.rejects[dataset.CodeMissingPartner] = 2

	sum := buildT(t, src, out, BuildOptions{Format: "auto"})
	if sum.Format != "pennfudan" {
		t.Errorf("detected %s", sum.Format)
	}
	d := buildCheck(t, out, sum, want)
	for _, s := range d.Samples {
		if !reflect.DeepEqual(s.Boxes, wantBoxes[s.ID]) {
			t.Errorf("%s: boxes %v, want 0-based %v", s.ID, s.Boxes, wantBoxes[s.ID])
		}
		got, _, _ := fixture.ReadPlane(t, d.Path(s.Instances))
		if !bytes.Equal(got, wantIDs[s.ID]) {
			t.Errorf("%s: instance ids differ in %d pixels", s.ID, buildDiffCount(got, wantIDs[s.ID]))
		}
	}
}

func TestBuildAISegment(t *testing.T) {
	p3m := fixture.LoadP3M(t, 4)
	src, out := filepath.Join(t.TempDir(), "matting_human_half"), filepath.Join(t.TempDir(), "ds")
	clip, matte := "clip_img/1803151818/clip_00000000", "matting/1803151818/matting_00000000"
	want := buildExpectation{samples: len(p3m), masks: map[string][]byte{}, alphas: map[string][]byte{},
		rejects: map[string]int{dataset.CodeTruncated: 1, dataset.CodeAppleDouble: 2, dataset.CodeSizeMismatch: 1, dataset.CodeNotImage: 1}}
	for _, s := range p3m {
		name := "1803151818-" + s.Name
		fixture.WriteMat(t, filepath.Join(src, clip, name+".jpg"), s.Img)
		fixture.WriteRGBA(t, filepath.Join(src, matte, name+".png"), s.Img, s.Alpha)
		id := dataset.ID("1803151818/clip_00000000/" + name)
		want.masks[id], want.alphas[id] = s.Mask, s.Alpha
	}
	s0 := p3m[0]
	fixture.PlantTruncatedJPEG(t, filepath.Join(src, clip, "trunc.jpg"), s0.Img)
	fixture.WriteRGBA(t, filepath.Join(src, matte, "trunc.png"), s0.Img, s0.Alpha)
	fixture.PlantAppleDouble(t, filepath.Join(src, clip, "._1803151818-"+s0.Name+".jpg"))
	fixture.PlantAppleDouble(t, filepath.Join(src, matte, "._1803151818-"+s0.Name+".png"))
	small := buildHalfSize(s0.Img)
	defer small.Close()
	fixture.WriteMat(t, filepath.Join(src, clip, "mismatch.jpg"), small)
	fixture.WriteRGBA(t, filepath.Join(src, matte, "mismatch.png"), s0.Img, s0.Alpha)
	// An unreadable file with an image name, as in the real download.
	os.WriteFile(filepath.Join(src, clip, "garbage.jpg"), []byte("this is not a JPEG at all"), 0o644)
	fixture.WriteRGBA(t, filepath.Join(src, matte, "garbage.png"), s0.Img, s0.Alpha)

	sum := buildT(t, src, out, BuildOptions{Format: "auto"})
	if sum.Format != "aisegment" {
		t.Errorf("detected %s", sum.Format)
	}
	buildCheck(t, out, sum, want)
}

func TestBuildPFCNMatting(t *testing.T) {
	p3m := fixture.LoadP3M(t, 4)
	src, out := filepath.Join(t.TempDir(), "PFCN"), filepath.Join(t.TempDir(), "ds")
	want := buildExpectation{samples: len(p3m), masks: map[string][]byte{}, alphas: map[string][]byte{}, splits: map[string]string{},
		rejects: map[string]int{dataset.CodeTruncated: 1, dataset.CodeAppleDouble: 1, dataset.CodeSizeMismatch: 1}}
	for i, s := range p3m {
		dir, split := "training", "train"
		if i == len(p3m)-1 {
			dir, split = "testing", "test"
		}
		stem := fmt.Sprintf("%05d", i+1)
		fixture.WriteMat(t, filepath.Join(src, dir, stem+".png"), s.Img)
		fixture.WritePlane(t, filepath.Join(src, dir, stem+"_matte.png"), s.Alpha, s.W, s.H)
		id := dataset.ID(dir + "/" + stem)
		want.masks[id], want.alphas[id], want.splits[id] = s.Mask, s.Alpha, split
	}
	s0 := p3m[0]
	fixture.PlantTruncatedJPEG(t, filepath.Join(src, "training", "00090.jpg"), s0.Img)
	fixture.WritePlane(t, filepath.Join(src, "training", "00090_matte.png"), s0.Alpha, s0.W, s0.H)
	fixture.PlantAppleDouble(t, filepath.Join(src, "training", "._00001.png"))
	small := buildHalfSize(s0.Img)
	defer small.Close()
	fixture.WriteMat(t, filepath.Join(src, "testing", "00091.png"), small)
	fixture.WritePlane(t, filepath.Join(src, "testing", "00091_matte.png"), s0.Alpha, s0.W, s0.H)

	sum := buildT(t, src, out, BuildOptions{Format: "auto"})
	if sum.Format != "pfcn-matting" {
		t.Errorf("detected %s", sum.Format)
	}
	buildCheck(t, out, sum, want)
}

// buildEGFixture writes the people-parts photos in either EG1800 layout.
func buildEGFixture(t *testing.T, src string, pp []fixture.RealSample, mat bool) buildExpectation {
	want := buildExpectation{samples: len(pp), masks: map[string][]byte{}, splits: map[string]string{},
		rejects: map[string]int{dataset.CodeTruncated: 1, dataset.CodeAppleDouble: 1, dataset.CodeSizeMismatch: 1}}
	imgDir, labDir := "Images", "Labels"
	if mat {
		imgDir, labDir = "images_data_crop", "images_mask"
	}
	label := func(stem string, mask []byte, w, h int) {
		if mat {
			fixture.WriteMATMask(t, filepath.Join(src, labDir, stem+"_mask.mat"), mask, w, h)
			return
		}
		ones := make([]byte, len(mask))
		for i, v := range mask {
			ones[i] = v / 255
		}
		fixture.WritePlane(t, filepath.Join(src, labDir, stem+".png"), ones, w, h)
	}
	var train, test []float64
	for i, s := range pp {
		stem := fmt.Sprintf("%05d", i+1)
		ext := ".png"
		if mat {
			ext = ".jpg"
		}
		fixture.WriteMat(t, filepath.Join(src, imgDir, stem+ext), s.Img)
		label(stem, s.Mask, s.W, s.H)
		want.masks[stem] = s.Mask
		if i < 3 {
			train = append(train, float64(i+1))
			want.splits[stem] = "train"
		} else {
			test = append(test, float64(i+1))
			want.splits[stem] = "test"
		}
	}
	if mat {
		fixture.WriteMATVar(t, filepath.Join(src, "trainlist.mat"), &matfile.Matrix{Name: "trainlist", Class: matfile.ClassDouble, Dims: []int{1, len(train)}, Data: train}, false)
		fixture.WriteMATVar(t, filepath.Join(src, "testlist.mat"), &matfile.Matrix{Name: "testlist", Class: matfile.ClassDouble, Dims: []int{1, len(test)}, Data: test}, true)
	} else {
		var tr, te strings.Builder
		for _, v := range train {
			fmt.Fprintf(&tr, "%05d.png\n", int(v))
		}
		for _, v := range test {
			fmt.Fprintf(&te, "%05d.png\n", int(v))
		}
		os.WriteFile(filepath.Join(src, "eg1800_train.txt"), []byte(tr.String()), 0o644)
		os.WriteFile(filepath.Join(src, "eg1800_test.txt"), []byte(te.String()), 0o644)
	}
	ext := ".png"
	if mat {
		ext = ".jpg"
	}
	fixture.PlantTruncatedJPEG(t, filepath.Join(src, imgDir, "00090"+ext), pp[0].Img)
	label("00090", pp[0].Mask, pp[0].W, pp[0].H)
	fixture.PlantAppleDouble(t, filepath.Join(src, imgDir, "._00001"+ext))
	small := buildHalfSize(pp[1].Img)
	defer small.Close()
	fixture.WriteMat(t, filepath.Join(src, imgDir, "00091"+ext), small)
	label("00091", pp[1].Mask, pp[1].W, pp[1].H)
	return want
}

func TestBuildPFCNEG(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	for _, mat := range []bool{true, false} {
		t.Run(fmt.Sprintf("mat=%v", mat), func(t *testing.T) {
			src, out := filepath.Join(t.TempDir(), "EG1800"), filepath.Join(t.TempDir(), "ds")
			want := buildEGFixture(t, src, pp, mat)
			sum := buildT(t, src, out, BuildOptions{Format: "auto"})
			if sum.Format != "pfcn-eg" {
				t.Errorf("detected %s", sum.Format)
			}
			buildCheck(t, out, sum, want)
		})
	}
}

// TestBuildSplitStability adds samples to a source and checks no old sample
// changes split.
func TestBuildSplitStability(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	fixture.Mkdirs(t, src, "images", "masks")
	add := func(name string, s fixture.RealSample) {
		fixture.WriteMat(t, filepath.Join(src, "images", name+".png"), s.Img)
		fixture.WritePlane(t, filepath.Join(src, "masks", name+".png"), s.Mask, s.W, s.H)
	}
	for i := 0; i < 20; i++ {
		add(fmt.Sprintf("a%02d", i), pp[i%len(pp)])
	}
	o := BuildOptions{Format: "folder", Ratios: dataset.Ratios{0.5, 0.25, 0.25}, Seed: 3}
	out1 := filepath.Join(t.TempDir(), "ds1")
	buildT(t, src, out1, o)
	for i := 0; i < 20; i++ {
		add(fmt.Sprintf("b%02d", i), pp[i%len(pp)])
	}
	out2 := filepath.Join(t.TempDir(), "ds2")
	buildT(t, src, out2, o)
	d1, _ := dataset.Open(out1)
	d2, _ := dataset.Open(out2)
	if len(d2.Samples) != 40 {
		t.Fatalf("second build has %d samples, want 40", len(d2.Samples))
	}
	split2 := map[string]string{}
	counts := map[string]int{}
	for _, s := range d2.Samples {
		split2[s.ID] = s.Split
		counts[s.Split]++
	}
	for _, s := range d1.Samples {
		if split2[s.ID] != s.Split {
			t.Errorf("%s moved from %s to %s when samples were added", s.ID, s.Split, split2[s.ID])
		}
	}
	for _, sp := range dataset.SplitNames() {
		if counts[sp] == 0 {
			t.Errorf("split %s is empty with ratios 0.5,0.25,0.25 over 40 samples", sp)
		}
	}
}

// buildSnapshot maps every file below dir to its size and modification time.
func buildSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			m[p] = fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return m
}

func TestBuildResumeWritesNothing(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src, out := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "ds")
	buildFolderFixture(t, src, pp)
	buildT(t, src, out, BuildOptions{Format: "folder"})
	before := buildSnapshot(t, out)
	sum := buildT(t, src, out, BuildOptions{Format: "folder", RunOptions: RunOptions{Resume: true}})
	if sum.Files != 0 || sum.Reused != len(pp) {
		t.Errorf("resume wrote %d files and reused %d samples, want 0 and %d", sum.Files, sum.Reused, len(pp))
	}
	if after := buildSnapshot(t, out); !reflect.DeepEqual(before, after) {
		t.Errorf("resume changed the dataset folder:\nbefore %v\nafter  %v", before, after)
	}
	// Without --resume or --force an existing output is refused.
	_, err := Build(context.Background(), BuildOptions{Format: "folder", Src: src, Out: out})
	if !errors.Is(err, dataset.ErrExists) {
		t.Errorf("rebuilding over an existing dataset: %v, want dataset.ErrExists", err)
	}
	// Resuming with other options is refused.
	_, err = Build(context.Background(), BuildOptions{Format: "folder", Src: src, Out: out, Seed: 99, RunOptions: RunOptions{Resume: true}})
	if err == nil || !strings.Contains(err.Error(), "other options") {
		t.Errorf("resume with another seed: %v, want a refusal", err)
	}
}

func TestBuildResumeAfterInterrupt(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	buildFolderFixture(t, src, pp)
	fresh := filepath.Join(t.TempDir(), "fresh")
	buildT(t, src, fresh, BuildOptions{Format: "folder"})

	out := filepath.Join(t.TempDir(), "ds")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Build(ctx, BuildOptions{Format: "folder", Src: src, Out: out,
		RunOptions: RunOptions{Workers: 1, Progress: func(done, _ int) {
			if done == 2 {
				cancel()
			}
		}},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted build returned %v", err)
	}
	if _, err := dataset.Open(out); !errors.Is(err, dataset.ErrPartial) {
		t.Fatalf("opening an interrupted build: %v, want dataset.ErrPartial", err)
	}
	sum := buildT(t, src, out, BuildOptions{Format: "folder", RunOptions: RunOptions{Resume: true}})
	if sum.Reused < 1 || sum.Reused >= len(pp) {
		t.Errorf("resume reused %d samples, want some but not all of %d", sum.Reused, len(pp))
	}
	for _, f := range []string{dataset.ManifestFile, dataset.RejectsFile} {
		a, _ := os.ReadFile(filepath.Join(fresh, f))
		b, _ := os.ReadFile(filepath.Join(out, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s after interrupt+resume differs from an uninterrupted build", f)
		}
	}
}

// TestBuildWorkersDeterminism builds with 1 and 2 workers and compares every
// byte except dataset.json's creation time.
func TestBuildWorkersDeterminism(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	buildFolderFixture(t, src, pp)
	var dirs []string
	for _, w := range []int{1, 2} {
		out := filepath.Join(t.TempDir(), fmt.Sprint("ds", w))
		buildT(t, src, out, BuildOptions{Format: "folder", Crops: 2, CropSize: 200, Seed: 5, RunOptions: RunOptions{Workers: w}})
		dirs = append(dirs, out)
	}
	files := func(dir string) []string {
		var fs []string
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && fi.Name() != dataset.InfoFile {
				r, _ := filepath.Rel(dir, p)
				fs = append(fs, r)
			}
			return nil
		})
		sort.Strings(fs)
		return fs
	}
	a, b := files(dirs[0]), files(dirs[1])
	if !reflect.DeepEqual(a, b) || len(a) < 20 {
		t.Fatalf("file lists differ or are short: %d vs %d", len(a), len(b))
	}
	for _, f := range a {
		x, _ := os.ReadFile(filepath.Join(dirs[0], f))
		y, _ := os.ReadFile(filepath.Join(dirs[1], f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between --workers 1 and 2", f)
		}
	}
}

func TestBuildResizeAndCrops(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	buildFolderFixture(t, src, pp)
	out := filepath.Join(t.TempDir(), "resized")
	buildT(t, src, out, BuildOptions{Format: "folder", Resize: image.Pt(320, 240)})
	d, _ := dataset.Open(out)
	for _, s := range d.Samples {
		m, w, h := fixture.ReadPlane(t, d.Path(s.Mask))
		if w != 320 || h != 240 || s.Width != 320 || s.Height != 240 {
			t.Errorf("%s: %dx%d after --resize 320x240", s.ID, w, h)
		}
		for _, v := range m {
			if v != 0 && v != 255 {
				t.Fatalf("%s: resized mask has value %d", s.ID, v)
			}
		}
	}
	out = filepath.Join(t.TempDir(), "crops")
	sum := buildT(t, src, out, BuildOptions{Format: "folder", Crops: 3, CropSize: 128, Seed: 2})
	if sum.Samples != 3*len(pp) {
		t.Errorf("%d crops, want %d", sum.Samples, 3*len(pp))
	}
	d, _ = dataset.Open(out)
	for _, s := range d.Samples {
		if s.Width != 128 || s.Height != 128 || s.Parent == "" || !strings.HasPrefix(s.ID, s.Parent+"_c") {
			t.Errorf("crop row %+v", s)
		}
	}
	if problems, _ := dataset.Validate(context.Background(), d, 1, nil); len(problems) > 0 {
		t.Errorf("validate crops: %v", problems)
	}
}

// TestBuildCropMatchesSource checks a crop is the same window of image and
// mask, at the offset drawn from (seed, id, crop index).
func TestBuildCropMatchesSource(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	fixture.Mkdirs(t, src, "images", "masks")
	s := pp[0]
	fixture.WriteMat(t, filepath.Join(src, "images", "p.png"), s.Img)
	fixture.WritePlane(t, filepath.Join(src, "masks", "p.png"), s.Mask, s.W, s.H)
	out := filepath.Join(t.TempDir(), "ds")
	buildT(t, src, out, BuildOptions{Format: "folder", Crops: 1, CropSize: 300, Seed: 9})
	d, _ := dataset.Open(out)
	crop, _, _ := fixture.ReadPlane(t, d.Path(d.Samples[0].Mask))
	img := gocv.IMRead(d.Path(d.Samples[0].Image), gocv.IMReadColor)
	defer img.Close()
	rng := buildSampleRand(9, "p", 0)
	x, y := rng.IntN(s.W-300+1), rng.IntN(s.H-300+1)
	win := s.Img.Region(image.Rect(x, y, x+300, y+300))
	defer win.Close()
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(win, img, &diff)
	flat := diff.Reshape(1, 0)
	defer flat.Close()
	if n := gocv.CountNonZero(flat); n != 0 {
		t.Fatalf("image crop differs from the source window at (%d,%d) in %d values", x, y, n)
	}
	for r := 0; r < 300; r++ {
		if !bytes.Equal(crop[r*300:(r+1)*300], s.Mask[(y+r)*s.W+x:(y+r)*s.W+x+300]) {
			t.Fatalf("mask crop row %d differs from the window at (%d,%d)", r, x, y)
		}
	}
}

func TestBuildForceReplacesAndZeroSamples(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	buildFolderFixture(t, src, pp)
	out := filepath.Join(t.TempDir(), "ds")
	buildT(t, src, out, BuildOptions{Format: "folder"})
	sum := buildT(t, src, out, BuildOptions{Format: "folder", Resize: image.Pt(64, 64), RunOptions: RunOptions{Force: true}})
	d, err := dataset.Open(out)
	if err != nil || sum.Samples != len(pp) || d.Samples[0].Width != 64 {
		t.Fatalf("--force rebuild: %v, %+v", err, d)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), ".ds.segtool-staging")); !os.IsNotExist(err) {
		t.Errorf("staging folder left behind: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	fixture.Mkdirs(t, bad, "images", "masks")
	fixture.PlantTruncatedJPEG(t, filepath.Join(bad, "images", "x.jpg"), pp[0].Img)
	fixture.WritePlane(t, filepath.Join(bad, "masks", "x.png"), pp[0].Mask, pp[0].W, pp[0].H)
	_, err = Build(context.Background(), BuildOptions{Format: "folder", Src: bad, Out: filepath.Join(t.TempDir(), "none")})
	if !errors.Is(err, ErrNoRows) {
		t.Errorf("all-bad source: %v, want ErrNoRows", err)
	}
}

func TestBuildLinkHardLinksUnchangedImages(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	buildFolderFixture(t, src, pp)
	out := filepath.Join(src, "..", "linked")
	buildT(t, src, out, BuildOptions{Format: "folder", Link: true})
	d, _ := dataset.Open(out)
	a, _ := os.Stat(filepath.Join(src, "images", pp[0].Name+".png"))
	b, _ := os.Stat(d.Path("images/" + dataset.ID(pp[0].Name) + ".png"))
	if !os.SameFile(a, b) {
		t.Error("--link did not hard-link an unchanged image")
	}
}

// FailFast stops on a sample's rejects, not on files the scan set aside
// (an AppleDouble file is no sample), as build always did.
func TestBuildFailFastIgnoresScanRejects(t *testing.T) {
	pp := fixture.LoadPeopleParts(t)
	src := filepath.Join(t.TempDir(), "src")
	fixture.Mkdirs(t, src, "images", "masks")
	for _, s := range pp {
		fixture.WriteMat(t, filepath.Join(src, "images", s.Name+".png"), s.Img)
		fixture.WritePlane(t, filepath.Join(src, "masks", s.Name+".png"), s.Mask, s.W, s.H)
	}
	fixture.PlantAppleDouble(t, filepath.Join(src, "images", "._"+pp[0].Name+".png"))
	out := filepath.Join(t.TempDir(), "ds")
	sum, err := Build(context.Background(), BuildOptions{Format: "folder", Src: src, Out: out, RunOptions: RunOptions{FailFast: true}})
	if err != nil || sum.Samples != len(pp) || sum.RejectCodes[dataset.CodeAppleDouble] != 1 {
		t.Fatalf("fail-fast with a scan reject: %v, %d samples, rejects %v; want %d samples and the AppleDouble reject", err, sum.Samples, sum.RejectCodes, len(pp))
	}
	// A sample's own reject still stops the run.
	fixture.PlantTruncatedJPEG(t, filepath.Join(src, "images", "trunc.jpg"), pp[0].Img)
	fixture.WritePlane(t, filepath.Join(src, "masks", "trunc.png"), pp[0].Mask, pp[0].W, pp[0].H)
	_, err = Build(context.Background(), BuildOptions{Format: "folder", Src: src, Out: filepath.Join(t.TempDir(), "ds2"), RunOptions: RunOptions{FailFast: true, Workers: 1}})
	if !errors.Is(err, dataset.ErrFailFast) {
		t.Errorf("fail-fast with a truncated sample: %v, want ErrFailFast", err)
	}
}

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

func exportRead(t *testing.T, path string) coco.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f coco.File
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// Export of a Penn-Fudan dataset, then decoding each annotation's RLE and
// painting it with its instance id, gives back every instance plane bit
// for bit (read with Go's PNG decoder, not OpenCV); bbox and area are
// the painted pixels' extent and count.
func TestExportRoundTrip(t *testing.T) {
	_, pf := augmentTestSource(t, 6)
	out := filepath.Join(t.TempDir(), "coco.json")
	sum, err := Export(context.Background(), ExportOptions{Dataset: pf, Format: ExportFormatCOCO, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Open(pf)
	if err != nil {
		t.Fatal(err)
	}
	f := exportRead(t, out)
	if sum.Images != len(d.Samples) || len(f.Images) != len(d.Samples) || sum.FromMasks != 0 || len(sum.Rejects) != 0 {
		t.Fatalf("summary %+v, %d images for %d rows", sum, len(f.Images), len(d.Samples))
	}
	if !slices.Equal(f.Categories, []coco.Category{{ID: 1, Name: "person"}}) {
		t.Errorf("categories %v", f.Categories)
	}
	annID := 0
	for i, s := range d.Samples {
		img := f.Images[i]
		if img.ID != i+1 || img.FileName != s.Image || img.Width != s.Width || img.Height != s.Height {
			t.Fatalf("image %d: %+v for row %+v", i, img, s)
		}
		plane, w, h := fixture.ReadPlane(t, d.Path(s.Instances))
		var ids []uint8
		for _, v := range plane {
			if v != 0 && !slices.Contains(ids, v) {
				ids = append(ids, v)
			}
		}
		slices.Sort(ids)
		back := make([]uint8, w*h)
		k := 0
		for _, a := range f.Annotations {
			if a.ImageID != img.ID {
				continue
			}
			annID++
			if a.ID != annID || a.CategoryID != 1 || a.IsCrowd != 0 || a.Segmentation.Size != [2]int{h, w} {
				t.Fatalf("annotation %+v", a)
			}
			r, err := a.Segmentation.RLE()
			if err != nil {
				t.Fatal(err)
			}
			x0, y0, x1, y1, n := w, h, -1, -1, 0
			for p, v := range r.Decode() {
				if v == 0 {
					continue
				}
				if back[p] != 0 {
					t.Fatalf("image %d: instances overlap at %d", img.ID, p)
				}
				back[p] = ids[k]
				x, y := p%w, p/w
				x0, y0, x1, y1, n = min(x0, x), min(y0, y), max(x1, x), max(y1, y), n+1
			}
			if want := [4]float64{float64(x0), float64(y0), float64(x1 - x0 + 1), float64(y1 - y0 + 1)}; a.BBox != want || a.Area != float64(n) {
				t.Errorf("annotation %d: bbox %v area %v, pixels give %v %d", a.ID, a.BBox, a.Area, want, n)
			}
			k++
		}
		if k != len(ids) || !slices.Equal(back, plane) {
			t.Errorf("image %d: %d annotations for %d ids; planes equal: %v", img.ID, k, len(ids), slices.Equal(back, plane))
		}
	}
	if annID == 0 {
		t.Fatal("no annotation exported")
	}

	// pycocotools reads the file, and its annToRLE areas are ours.
	var got struct {
		Images, Annotations int
		Areas               []float64
	}
	shareddata.PycocoJSON(t, "../coco/testdata/pycoco.py", map[string]any{"op": "load", "file": out}, &got)
	if got.Images != len(f.Images) || got.Annotations != len(f.Annotations) {
		t.Errorf("pycocotools loaded %d images, %d annotations; we wrote %d, %d", got.Images, got.Annotations, len(f.Images), len(f.Annotations))
	}
	for i, a := range f.Annotations {
		if got.Areas[i] != a.Area {
			t.Errorf("annotation %d: pycocotools area %v, ours %v", a.ID, got.Areas[i], a.Area)
		}
	}
}

// A dataset without instances exports each non-empty person mask as one
// annotation; a split selects rows in manifest order; an existing file
// needs Force; bad options name their field.
func TestExportMasksAndOptions(t *testing.T) {
	ds, _ := augmentTestSource(t, 6)
	out := filepath.Join(t.TempDir(), "coco.json")
	ctx := context.Background()
	sum, err := Export(ctx, ExportOptions{Dataset: ds, Format: ExportFormatCOCO, Out: out, Split: []string{"train"}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := dataset.Open(ds)
	var train []dataset.Sample
	for _, s := range d.Samples {
		if s.Split == "train" {
			train = append(train, s)
		}
	}
	f := exportRead(t, out)
	if len(f.Images) != len(train) || sum.FromMasks != len(train) || len(f.Annotations) != len(train) {
		t.Fatalf("%d images, %d annotations, %d from masks for %d train rows", len(f.Images), len(f.Annotations), sum.FromMasks, len(train))
	}
	for i, a := range f.Annotations {
		mask, w, h := fixture.ReadPlane(t, d.Path(train[i].Mask))
		r, _ := a.Segmentation.RLE()
		dec := r.Decode()
		for p := range mask {
			if (mask[p] != 0) != (dec[p] != 0) {
				t.Fatalf("row %s: mask and RLE differ at %d (%dx%d)", train[i].ID, p, w, h)
			}
		}
	}
	if _, err := Export(ctx, ExportOptions{Dataset: ds, Format: ExportFormatCOCO, Out: out}); !errors.Is(err, dataset.ErrExists) {
		t.Errorf("existing output without Force: %v", err)
	}
	if _, err := Export(ctx, ExportOptions{Dataset: ds, Format: ExportFormatCOCO, Out: out, Force: true}); err != nil {
		t.Errorf("with Force: %v", err)
	}
	for field, o := range map[string]ExportOptions{
		"Format":  {Dataset: ds, Format: "voc", Out: out, Force: true},
		"Split":   {Dataset: ds, Format: ExportFormatCOCO, Out: out, Force: true, Split: []string{"dev"}},
		"Dataset": {Dataset: filepath.Join(ds, "nope"), Format: ExportFormatCOCO, Out: out, Force: true},
		"Out":     {Dataset: ds, Format: ExportFormatCOCO},
	} {
		var oe *dataset.OptionError
		if _, err := Export(ctx, o); !errors.As(err, &oe) || oe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// exportDamaged is a Penn-Fudan dataset whose second row's instances plane
// is corrupt and third row's is 5x5.
func exportDamaged(t *testing.T) (dir string, rows []dataset.Sample) {
	t.Helper()
	_, pf := augmentTestSource(t, 6)
	d, err := dataset.Open(pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Path(d.Samples[1].Instances), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	fixture.WritePlane(t, d.Path(d.Samples[2].Instances), make([]byte, 25), 5, 5)
	return pf, d.Samples
}

// A sample whose plane cannot be read is a reject with its path and
// reason, its image left out and its id unused; FailFast stops there.
func TestExportRejects(t *testing.T) {
	pf, rows := exportDamaged(t)
	out := filepath.Join(t.TempDir(), "coco.json")
	sum, err := Export(context.Background(), ExportOptions{Dataset: pf, Format: ExportFormatCOCO, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Rejects) != 2 || sum.Rejects[0].ID != rows[1].ID || sum.Rejects[0].Source[0] != rows[1].Instances ||
		sum.Rejects[1].Code != dataset.CodeSizeMismatch || sum.Images != len(rows)-2 {
		t.Fatalf("summary %+v", sum)
	}
	f := exportRead(t, out)
	for _, im := range f.Images {
		if im.ID == 2 || im.ID == 3 {
			t.Errorf("rejected image %d exported", im.ID)
		}
	}
	if f.Images[1].ID != 4 || f.Images[1].FileName != rows[3].Image {
		t.Errorf("image after the rejects: %+v, want id 4 for %s", f.Images[1], rows[3].Image)
	}
	_, err = Export(context.Background(), ExportOptions{Dataset: pf, Format: ExportFormatCOCO, Out: out, Force: true, FailFast: true})
	if !errors.Is(err, dataset.ErrFailFast) {
		t.Errorf("FailFast: %v", err)
	}
}

package coco

import (
	"math"
	"math/rand/v2"
	"testing"
)

func box(id, img int, b [4]float64, crowd bool) Annotation {
	return Annotation{ID: id, ImageID: img, CategoryID: 1, BBox: b, Area: b[2] * b[3], IsCrowd: crowd}
}

func boxDet(img int, b [4]float64, score float64) Detection {
	return Detection{ImageID: img, CategoryID: 1, BBox: b, Score: score}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Hand-worked cases of 1-3 boxes; every object has area ≤ 32², so "small"
// repeats "all" and medium and large have no ground truth (-1).
func TestEvaluateHandWorked(t *testing.T) {
	img := []Image{{ID: 1, Width: 100, Height: 100}}
	for _, c := range []struct {
		name string
		gts  []Annotation
		dets []Detection
		want [12]float64
	}{
		{
			// One perfect detection: precision 1 at every recall.
			name: "one hit",
			gts:  []Annotation{box(1, 1, [4]float64{0, 0, 10, 10}, false)},
			dets: []Detection{boxDet(1, [4]float64{0, 0, 10, 10}, .9)},
			want: [12]float64{1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1},
		},
		{
			// A half box (IoU .5) scored above the exact one. At IoU .50
			// the half box is the TP, then a FP: precision 1 up to recall
			// 1, AP 1. At .55-.95 a FP then the TP: precision 1/2 at every
			// recall, AP .5. AP = (1 + 9·.5)/10 = .55; AR100 = 1; AR1 sees
			// only the half box, recall 1 at .50 alone: .1.
			name: "half box first",
			gts:  []Annotation{box(1, 1, [4]float64{0, 0, 10, 10}, false)},
			dets: []Detection{boxDet(1, [4]float64{0, 0, 10, 5}, .9), boxDet(1, [4]float64{0, 0, 10, 10}, .8)},
			want: [12]float64{.55, 1, .5, .55, -1, -1, .1, 1, 1, 1, -1, -1},
		},
		{
			// A FP (.95), a detection inside a crowd region (.9: its
			// overlap is 25/25 over its own area, so it matches the crowd
			// and is ignored, not a FP), then the TP (.8): tp 0,0,1 over
			// fp 1,1,1 gives precision 1/2 at recall 1, AP .5 at every
			// threshold (1/3 had the crowd match been a FP). AR1 = 0.
			name: "crowd ignored",
			gts: []Annotation{
				box(1, 1, [4]float64{0, 0, 10, 10}, false),
				box(2, 1, [4]float64{20, 0, 20, 20}, true),
			},
			dets: []Detection{
				boxDet(1, [4]float64{50, 50, 5, 5}, .95),
				boxDet(1, [4]float64{25, 5, 5, 5}, .9),
				boxDet(1, [4]float64{0, 0, 10, 10}, .8),
			},
			want: [12]float64{.5, .5, .5, .5, -1, -1, 0, 1, 1, 1, -1, -1},
		},
	} {
		r, err := Evaluate(img, c.gts, c.dets, BoxIoU, DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.want {
			if !near(r.Stats[i], c.want[i], 1e-12) {
				t.Errorf("%s: %s = %v, want %v", c.name, StatNames[i], r.Stats[i], c.want[i])
			}
		}
	}
}

// The numpy linspace values pycocotools compares against: .75 must be one
// of them exactly, or pycocotools' AP75 would be -1.
func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	if len(p.IoUThrs) != 10 || p.IoUThrs[0] != .5 || p.IoUThrs[5] != .75 || p.IoUThrs[9] != .95 {
		t.Errorf("iou thresholds %v", p.IoUThrs)
	}
	if len(p.RecThrs) != 101 || p.RecThrs[100] != 1 || p.RecThrs[1] != .01 {
		t.Errorf("recall thresholds %v", p.RecThrs)
	}
}

// evalCase is a generated evaluation: several images of overlapping
// people (two categories), small, medium and large, crowd regions, misses,
// duplicates, false positives, an image without detections, one without
// ground truth and one with more than 100 detections.
type evalCase struct {
	images []Image
	gts    []Annotation
	dets   []Detection
}

func disc(h, w int, cx, cy, rx, ry float64) []uint8 {
	m := make([]uint8, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				m[y*w+x] = 1
			}
		}
	}
	return m
}

func genEvalCase(seed uint64) evalCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	var c evalCase
	gid := 1
	for im := 1; im <= 8; im++ {
		h, w := 150+rng.IntN(120), 200+rng.IntN(120)
		c.images = append(c.images, Image{ID: im * 3, Width: w, Height: h})
		id := im * 3
		nObj := 1 + rng.IntN(5)
		if im == 7 {
			nObj = 0 // only false positives here
		}
		for o := 0; o < nObj; o++ {
			// radii from 2 to 90 px: areas from ~12 to ~25000 px
			rx, ry := 2+rng.Float64()*float64(min(90, w/3)), 2+rng.Float64()*float64(min(90, h/3))
			cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
			m := Encode(disc(h, w, cx, cy, rx, ry), w, h)
			if m.Area() == 0 {
				continue
			}
			crowd := rng.IntN(8) == 0
			cat := 1 + rng.IntN(2)
			c.gts = append(c.gts, Annotation{ID: gid, ImageID: id, CategoryID: cat, BBox: m.BBox(),
				Area: float64(m.Area()), IsCrowd: crowd, Mask: &m})
			gid++
			if im == 5 {
				continue // no detections at all on this image
			}
			for n := 0; n < rng.IntN(3); n++ { // 0: a miss, 2: a duplicate
				jx, jy := rng.NormFloat64()*rx*.1, rng.NormFloat64()*ry*.1
				sx, sy := 1+rng.NormFloat64()*.1, 1+rng.NormFloat64()*.1
				dm := Encode(disc(h, w, cx+jx, cy+jy, rx*sx, ry*sy), w, h)
				score := math.Round(rng.Float64()*20) / 20 // ties on purpose
				b := dm.BBox()
				b[0] += rng.NormFloat64()
				b[2] += math.Abs(rng.NormFloat64())
				c.dets = append(c.dets, Detection{ImageID: id, CategoryID: cat, Score: score, BBox: b, Mask: &dm})
			}
		}
		if im == 5 {
			continue
		}
		nFP := rng.IntN(3)
		if im == 8 {
			nFP = 105 // past maxDets 100
		}
		for n := 0; n < nFP; n++ {
			rx, ry := 1+rng.Float64()*30, 1+rng.Float64()*30
			dm := Encode(disc(h, w, rng.Float64()*float64(w), rng.Float64()*float64(h), rx, ry), w, h)
			cat := 1 + rng.IntN(2)
			if im == 8 {
				cat = 1
			}
			c.dets = append(c.dets, Detection{ImageID: id, CategoryID: cat, Score: rng.Float64(), BBox: dm.BBox(), Mask: &dm})
		}
	}
	return c
}

// The 12 box and 12 mask statistics, and the PR curve at .5 and .75,
// against pycocotools' COCOeval on generated cases.
func TestEvaluateMatchesPycocotools(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		c := genEvalCase(seed)
		type rle struct {
			Size   [2]int `json:"size"`
			Counts string `json:"counts"`
		}
		var anns, dtBox, dtSegm []map[string]any
		for _, g := range c.gts {
			crowd := 0
			if g.IsCrowd {
				crowd = 1
			}
			anns = append(anns, map[string]any{"id": g.ID, "image_id": g.ImageID, "category_id": g.CategoryID,
				"bbox": g.BBox, "area": g.Area, "iscrowd": crowd, "segmentation": rle{[2]int{g.Mask.H, g.Mask.W}, g.Mask.String()}})
		}
		for _, d := range c.dets {
			dtBox = append(dtBox, map[string]any{"image_id": d.ImageID, "category_id": d.CategoryID, "bbox": d.BBox, "score": d.Score})
			dtSegm = append(dtSegm, map[string]any{"image_id": d.ImageID, "category_id": d.CategoryID, "score": d.Score,
				"segmentation": rle{[2]int{d.Mask.H, d.Mask.W}, d.Mask.String()}})
		}
		for _, iou := range []float64{.5, .75} {
			req := map[string]any{"op": "eval", "pr_iou": iou, "dt_bbox": dtBox, "dt_segm": dtSegm, "gt": map[string]any{
				"images": c.images, "annotations": anns,
				"categories": []Category{{1, "person"}, {2, "other"}},
			}}
			var want map[string][]float64
			pycoco(t, req, &want)
			for _, kind := range []IoUType{BoxIoU, MaskIoU} {
				r, err := Evaluate(c.images, c.gts, c.dets, kind, DefaultParams())
				if err != nil {
					t.Fatal(err)
				}
				if iou == .5 {
					for i, w := range want[string(kind)] {
						if !near(r.Stats[i], w, 1e-9) {
							t.Errorf("seed %d %s %s = %.12f, pycocotools %.12f", seed, kind, StatNames[i], r.Stats[i], w)
						}
					}
				}
				_, pr := r.PR(iou)
				for i, w := range want[string(kind)+"_pr"] {
					if !near(pr[i], w, 1e-9) {
						t.Errorf("seed %d %s PR@%v[%d] = %v, pycocotools %v", seed, kind, iou, i, pr[i], w)
						break
					}
				}
			}
		}
	}
}

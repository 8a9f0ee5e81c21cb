package coco

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var resImages = []Image{{ID: 1, Width: 4, Height: 3}, {ID: 2, Width: 10, Height: 10}}
var resCats = []Category{{ID: 1, Name: "person"}}

func TestReadResultsFormats(t *testing.T) {
	// Image 1 is 3 high, 4 wide: counts 3 (zeros, column 0) then 9 ones
	// (columns 1-3), compressed as '0'+3, '0'+9 = "39".
	in := `[
	 {"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": {"size": [3, 4], "counts": "39"}},
	 {"image_id": 1, "category_id": 1, "score": 0.8, "segmentation": {"size": [3, 4], "counts": [3, 9]}, "bbox": [1, 0, 3, 3]},
	 {"image_id": 2, "category_id": 1, "score": 0.7, "bbox": [-2, 8, 5, 5]},
	 {"image_id": 2, "category_id": 1, "score": 0.6, "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4]]},
	 {"image_id": 2, "category_id": 1, "score": 0.5, "segmentation": [[8, 8, 12, 8, 12, 12]]}
	]`
	dets, clipped, err := ReadResults(strings.NewReader(in), resImages, resCats)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 5 {
		t.Fatalf("%d detections", len(dets))
	}
	for i := 0; i < 2; i++ {
		if !slices.Equal(dets[i].Mask.Counts, []uint32{3, 9}) || dets[i].BBox != [4]float64{1, 0, 3, 3} {
			t.Errorf("det %d: %v %v", i, dets[i].Mask.Counts, dets[i].BBox)
		}
	}
	// [-2, 8, 5, 5] cut to the 10x10 image: x 0..3, y 8..10.
	if dets[2].Mask != nil || dets[2].BBox != [4]float64{0, 8, 3, 2} {
		t.Errorf("clipped box %v", dets[2].BBox)
	}
	// The square polygon 0..4 covers pixels 0..3 in x and y (rleFrPoly
	// takes pixel centres): 16 px.
	if a := dets[3].Mask.Area(); a != 16 {
		t.Errorf("polygon area %d", a)
	}
	if clipped != 2 {
		t.Errorf("clipped %d, want 2 (the box and the last polygon)", clipped)
	}
	if dets, _, err := ReadResults(strings.NewReader(`[]`), resImages, resCats); err != nil || len(dets) != 0 {
		t.Errorf("empty list: %v %v", dets, err)
	}
}

func TestReadResultsRejects(t *testing.T) {
	for _, c := range []struct {
		in    string
		field string
		want  error
	}{
		{`[{"image_id": 9, "category_id": 1, "score": 1, "bbox": [0, 0, 1, 1]}]`, "image_id", ErrUnknownImage},
		{`[{"image_id": 1, "category_id": 3, "score": 1, "bbox": [0, 0, 1, 1]}]`, "category_id", ErrUnknownCategory},
		{`[{"image_id": 1, "category_id": 1, "score": NaN, "bbox": [0, 0, 1, 1]}]`, "score", ErrBadScore},
		{`[{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [3, 4], "counts": [3, 8]}}]`, "segmentation", ErrMalformedRLE},
		{`[{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [3, 4], "counts": "38"}}]`, "segmentation", ErrMalformedRLE},
		{`[{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [4, 3], "counts": "39"}}]`, "segmentation", ErrMalformedRLE},
		{`[{"image_id": 1, "category_id": 1, "score": 1, "segmentation": [[0, 0, 1, 1]]}]`, "segmentation", ErrPolygon},
	} {
		_, _, err := ReadResults(strings.NewReader(c.in), resImages, resCats)
		var re *ResultsError
		if !errors.Is(err, c.want) || !errors.Is(err, ErrResults) || !errors.As(err, &re) || re.Field != c.field || re.Index != 0 {
			t.Errorf("%s: %v, want %v in field %s", c.in, err, c.want, c.field)
		}
	}
	if _, _, err := ReadResults(strings.NewReader(`{"a": 1}`), resImages, resCats); !errors.Is(err, ErrResults) {
		t.Errorf("an object: %v", err)
	}
}

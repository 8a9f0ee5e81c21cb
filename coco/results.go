package coco

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Sentinels of a results file's problems; each comes wrapped in a
// *ResultsError, and errors.Is(err, ErrResults) holds for all of them.
var (
	ErrResults         = errors.New("bad results file")
	ErrUnknownImage    = errors.New("image id not in the image list")
	ErrUnknownCategory = errors.New("unknown category")
	ErrBadScore        = errors.New("score is not a finite number")
)

// ResultsError is one problem of a results file: which detection (its
// index in the list, -1 for the file as a whole) and which field.
type ResultsError struct {
	Index int
	Field string
	Err   error
}

func (e *ResultsError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("results file: %v", e.Err)
	}
	return fmt.Sprintf("results file: detection %d: %s: %v", e.Index, e.Field, e.Err)
}

func (e *ResultsError) Unwrap() error { return e.Err }

// Is makes every ResultsError an ErrResults.
func (e *ResultsError) Is(target error) bool { return target == ErrResults }

// maxResultsBytes bounds what ReadResults reads: 1 GiB.
const maxResultsBytes = 1 << 30

type rawDetection struct {
	ImageID      *int            `json:"image_id"`
	CategoryID   *int            `json:"category_id"`
	Score        json.RawMessage `json:"score"`
	BBox         []float64       `json:"bbox"`
	Segmentation json.RawMessage `json:"segmentation"`
}

// ReadResults reads a COCO results file (a list of detections with
// image_id, category_id, score, bbox [x,y,w,h] and optional segmentation
// as compressed or uncompressed RLE or polygons) against the images and
// categories it must refer to. Detections reaching outside their image
// are clipped and counted in clipped: a box is cut to the image, a
// polygon is rasterised inside it (as pycocotools does); an RLE must have
// the image's size. A detection with a segmentation and no bbox gets the
// mask's toBbox (as pycocotools' loadRes); one with only a bbox has no
// Mask. Python's NaN and Infinity literals are read, to be refused as
// scores with ErrBadScore rather than as a syntax error.
func ReadResults(r io.Reader, images []Image, cats []Category) (dets []Detection, clipped int, err error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResultsBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > maxResultsBytes {
		return nil, 0, &ResultsError{Index: -1, Err: fmt.Errorf("larger than %d bytes", maxResultsBytes)}
	}
	var raw []rawDetection
	if err := json.Unmarshal(quoteNonFinite(b), &raw); err != nil {
		return nil, 0, &ResultsError{Index: -1, Err: fmt.Errorf("not a JSON list of detections: %w", err)}
	}
	imgs := make(map[int]Image, len(images))
	for _, im := range images {
		imgs[im.ID] = im
	}
	known := make(map[int]bool, len(cats))
	for _, c := range cats {
		known[c.ID] = true
	}
	dets = make([]Detection, 0, len(raw))
	for i, rd := range raw {
		bad := func(field string, err error) error { return &ResultsError{Index: i, Field: field, Err: err} }
		if rd.ImageID == nil {
			return nil, 0, bad("image_id", errors.New("missing"))
		}
		im, ok := imgs[*rd.ImageID]
		if !ok {
			return nil, 0, bad("image_id", fmt.Errorf("%w: %d", ErrUnknownImage, *rd.ImageID))
		}
		if rd.CategoryID == nil {
			return nil, 0, bad("category_id", errors.New("missing"))
		}
		if !known[*rd.CategoryID] {
			return nil, 0, bad("category_id", fmt.Errorf("%w: %d", ErrUnknownCategory, *rd.CategoryID))
		}
		score, err := parseScore(rd.Score)
		if err != nil {
			return nil, 0, bad("score", err)
		}
		d := Detection{ImageID: im.ID, CategoryID: *rd.CategoryID, Score: score}
		out := false
		if len(rd.Segmentation) > 0 && !bytes.Equal(rd.Segmentation, []byte("null")) {
			m, outside, err := parseSegmentation(rd.Segmentation, im)
			if err != nil {
				return nil, 0, bad("segmentation", err)
			}
			d.Mask, out = &m, outside
			d.BBox = m.BBox()
		}
		if rd.BBox != nil {
			if len(rd.BBox) != 4 {
				return nil, 0, bad("bbox", fmt.Errorf("%d numbers, want 4: [x, y, w, h]", len(rd.BBox)))
			}
			bx := [4]float64(rd.BBox)
			for _, v := range bx {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, 0, bad("bbox", errors.New("not finite"))
				}
			}
			if bx[2] < 0 || bx[3] < 0 {
				return nil, 0, bad("bbox", fmt.Errorf("negative size %gx%g", bx[2], bx[3]))
			}
			c := clipBox(bx, im)
			if c != bx {
				out = true
			}
			d.BBox = c
		} else if d.Mask == nil {
			return nil, 0, bad("bbox", errors.New("neither bbox nor segmentation"))
		}
		if out {
			clipped++
		}
		// loadRes: a file whose first result has a bbox gives every result
		// its box's area, else its mask's.
		if raw[0].BBox != nil {
			d.Area = d.BBox[2] * d.BBox[3]
		} else if d.Mask != nil {
			d.Area = float64(d.Mask.Area())
		}
		dets = append(dets, d)
	}
	return dets, clipped, nil
}

func parseScore(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 {
		return 0, errors.New("missing")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return 0, fmt.Errorf("%w: %s", ErrBadScore, s)
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%w: %s", ErrBadScore, raw)
	}
	return v, nil
}

// clipBox cuts [x, y, w, h] to the image; a box inside it comes back
// unchanged (no rounding from x+w−x).
func clipBox(b [4]float64, im Image) [4]float64 {
	W, H := float64(im.Width), float64(im.Height)
	if b[0] >= 0 && b[1] >= 0 && b[0]+b[2] <= W && b[1]+b[3] <= H {
		return b
	}
	x0, y0 := min(max(b[0], 0), W), min(max(b[1], 0), H)
	x1, y1 := max(min(b[0]+b[2], W), x0), max(min(b[1]+b[3], H), y0)
	return [4]float64{x0, y0, x1 - x0, y1 - y0}
}

// parseSegmentation reads compressed RLE, uncompressed RLE or polygons
// for image im; outside says a polygon reached past the image.
func parseSegmentation(raw json.RawMessage, im Image) (m RLE, outside bool, err error) {
	var obj struct {
		Size   []int           `json:"size"`
		Counts json.RawMessage `json:"counts"`
	}
	if raw[0] == '{' {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return RLE{}, false, fmt.Errorf("%w: %v", ErrMalformedRLE, err)
		}
		if len(obj.Size) != 2 || obj.Size[0] != im.Height || obj.Size[1] != im.Width {
			return RLE{}, false, fmt.Errorf("%w: size %v, the image is [%d, %d] (h, w)", ErrMalformedRLE, obj.Size, im.Height, im.Width)
		}
		var s string
		if json.Unmarshal(obj.Counts, &s) == nil {
			m, err := ParseCounts(s, im.Height, im.Width)
			return m, false, err
		}
		var counts []int64
		if err := json.Unmarshal(obj.Counts, &counts); err != nil {
			return RLE{}, false, fmt.Errorf("%w: counts are neither a string nor a list of integers", ErrMalformedRLE)
		}
		m, err := FromCounts(counts, im.Height, im.Width)
		return m, false, err
	}
	var polys [][]float64
	if err := json.Unmarshal(raw, &polys); err != nil {
		return RLE{}, false, fmt.Errorf("%w: neither an RLE object nor a list of polygons", ErrPolygon)
	}
	for _, p := range polys {
		for j, v := range p {
			lim := float64(im.Width)
			if j%2 == 1 {
				lim = float64(im.Height)
			}
			if v < 0 || v > lim {
				outside = true
			}
		}
	}
	m, err = FromPolygons(polys, im.Height, im.Width)
	return m, outside, err
}

// quoteNonFinite turns the NaN, Infinity and -Infinity literals Python's
// json module writes into strings, outside string literals, so that the
// file parses and the score check can name them.
func quoteNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out bytes.Buffer
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(b) {
				i++
				out.WriteByte(b[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		replaced := false
		for _, lit := range []string{"NaN", "-Infinity", "Infinity"} {
			if bytes.HasPrefix(b[i:], []byte(lit)) {
				out.WriteString(`"` + lit + `"`)
				i += len(lit) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// ResultEntry is one detection as a results file holds it.
type ResultEntry struct {
	ImageID      int        `json:"image_id"`
	CategoryID   int        `json:"category_id"`
	Score        float64    `json:"score"`
	BBox         [4]float64 `json:"bbox"`
	Segmentation *FileRLE   `json:"segmentation,omitempty"`
}

// WriteResults writes dets as a COCO results file (what ReadResults
// reads): bbox always, segmentation as compressed RLE where a detection
// has a mask. pycocotools' loadRes takes the area of a detection that has
// a bbox from the box, masks included; Evaluate takes a mask's own area,
// as Detectron2 makes pycocotools do by dropping bbox from mask results.
// So to compare mask AP with pycocotools, give it the file without bbox.
func WriteResults(w io.Writer, dets []Detection) error {
	out := make([]ResultEntry, len(dets))
	for i, d := range dets {
		if math.IsNaN(d.Score) || math.IsInf(d.Score, 0) {
			return fmt.Errorf("detection %d: %w: %v", i, ErrBadScore, d.Score)
		}
		out[i] = ResultEntry{ImageID: d.ImageID, CategoryID: d.CategoryID, Score: d.Score, BBox: d.BBox}
		if d.Mask != nil {
			f := d.Mask.ToFile()
			out[i].Segmentation = &f
		}
	}
	b, err := MarshalResults(out)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// MarshalResults is entries as a COCO results file: one JSON list, in
// the order given, and a newline.
func MarshalResults(entries []ResultEntry) ([]byte, error) {
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

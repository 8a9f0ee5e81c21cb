package dataset

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// scanPennFudan reads the Penn-Fudan Pedestrian database (Wang et al.,
// 2007): PNGImages/<stem>.png, PedMasks/<stem>_mask.png holding instance
// ids (0 background, 1..N pedestrians) and Annotation/<stem>.txt in PASCAL
// Annotation 1.00 text, whose boxes are 1-based.
func scanPennFudan(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	var cands []Candidate
	rejects, err := pairing{
		images: "PNGImages", labels: "PedMasks",
		imageKey: stemOf, labelKey: func(m string) string { return strings.TrimSuffix(stemOf(m), "_mask") },
		missing: func(stem string) string { return fmt.Sprintf("no instance mask PedMasks/%s_mask.png", stem) },
		orphan:  func(stem string) string { return fmt.Sprintf("no image PNGImages/%s.png for this mask", stem) },
	}.scan(ctx, src, func(img, mask, stem string) []Reject {
		var rejects []Reject
		c := Candidate{Key: strings.TrimPrefix(img, "PNGImages/"), Image: img, Sources: []string{img, mask}}
		ann := "Annotation/" + stem + ".txt"
		if IsFile(filepath.Join(src, ann)) {
			c.Sources = append(c.Sources, ann)
			b, err := readFile(src, ann)
			if err == nil {
				c.Boxes, err = ParsePASCALBoxes(b)
			}
			if err != nil {
				rejects = append(rejects, Reject{Source: []string{ann}, Stage: "scan", Code: CodeCorrupt, Kept: true,
					Reason: fmt.Sprintf("annotation unreadable, sample kept without boxes: %v", err)})
			}
		} else {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner, Kept: true,
				Reason: fmt.Sprintf("no annotation %s; sample kept without boxes", ann)})
		}
		c.Labels = func(src string, d Decoder) (Labels, error) {
			ids, notes, err := readLabel(src, mask, d)
			if err != nil {
				return Labels{}, err
			}
			return Labels{Mask: maskNonZero(ids), Instances: ids, Notes: notes}, nil
		}
		cands = append(cands, c)
		return rejects
	})
	if err != nil {
		return nil, nil, err
	}
	return cands, rejects, nil
}

var pascalBox = regexp.MustCompile(`^Bounding box for object (\d+) .*\(Xmin, Ymin\) - \(Xmax, Ymax\)\s*:\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)\s*-\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)`)

// ParsePASCALBoxes reads the "Bounding box for object i … : (Xmin, Ymin) -
// (Xmax, Ymax)" lines of a PASCAL Annotation 1.00 file and returns the
// boxes 0-based ([xmin-1, ymin-1, xmax-1, ymax-1]; the format's top-left
// pixel is (1, 1)), ordered by object number.
func ParsePASCALBoxes(text []byte) ([][4]float64, error) {
	type numbered struct {
		n   int
		box [4]float64
	}
	var found []numbered
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		m := pascalBox.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		var v [5]int
		for i := range v {
			v[i], _ = strconv.Atoi(m[i+1])
		}
		found = append(found, numbered{v[0], [4]float64{float64(v[1] - 1), float64(v[2] - 1), float64(v[3] - 1), float64(v[4] - 1)}})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(found) == 0 && bytes.Contains(text, []byte("Bounding box")) {
		return nil, fmt.Errorf("bounding box lines present but none could be parsed")
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].n < found[j].n })
	boxes := make([][4]float64, len(found))
	for i, f := range found {
		boxes[i] = f.box
	}
	return boxes, nil
}

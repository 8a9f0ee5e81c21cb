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

// pennFudan is the Penn-Fudan Pedestrian database (Wang et al., 2007):
// PNGImages/<stem>.png, PedMasks/<stem>_mask.png holding instance ids
// (0 background, 1..N pedestrians) and Annotation/<stem>.txt in PASCAL
// Annotation 1.00 text, whose boxes are 1-based.
type pennFudan struct{}

func (pennFudan) Name() string { return "pennfudan" }

func (pennFudan) Recognise() string {
	return "PNGImages/ and PedMasks/ (optional Annotation/): PNGImages/<stem>.png with PedMasks/<stem>_mask.png"
}

func (pennFudan) Detect(src string) bool {
	return isDir(filepath.Join(src, "PNGImages")) && isDir(filepath.Join(src, "PedMasks"))
}

func (pennFudan) Scan(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	images, rejects, err := listFiles(ctx, src, "PNGImages")
	if err != nil {
		return nil, nil, err
	}
	masks, mrej, err := listFiles(ctx, src, "PedMasks")
	if err != nil {
		return nil, nil, err
	}
	rejects = append(rejects, mrej...)
	maskOf := map[string]string{}
	for _, m := range masks {
		maskOf[strings.TrimSuffix(stemOf(m), "_mask")] = m
	}
	used := map[string]bool{}
	var cands []Candidate
	for _, img := range images {
		stem := stemOf(img)
		mask := maskOf[stem]
		if mask == "" {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("no instance mask PedMasks/%s_mask.png", stem)})
			continue
		}
		used[stem] = true
		c := Candidate{Key: strings.TrimPrefix(img, "PNGImages/"), Image: img, Sources: []string{img, mask}}
		ann := "Annotation/" + stem + ".txt"
		if isFile(filepath.Join(src, ann)) {
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
		c.Labels = func(src string) (Labels, error) {
			b, err := readFile(src, mask)
			if err != nil {
				return Labels{}, err
			}
			ids, _, notes, err := DecodeLabel(mask, b)
			if err != nil {
				return Labels{}, err
			}
			return Labels{Mask: maskNonZero(ids), Instances: ids, Notes: notes}, nil
		}
		cands = append(cands, c)
	}
	for stem, m := range maskOf {
		if !used[stem] {
			rejects = append(rejects, Reject{Source: []string{m}, Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("no image PNGImages/%s.png for this mask", stem)})
		}
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

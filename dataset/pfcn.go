package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// detectPFCNMatting finds the release of Shen et al., "Deep Automatic
// Portrait Matting" (ECCV 2016): training/NNNNN.png with
// training/NNNNN_matte.png, and testing/ laid out the same way. The folders
// give the splits.
func detectPFCNMatting(src string) bool {
	for _, d := range []string{"training", "testing"} {
		if ms, _ := filepath.Glob(filepath.Join(src, d, "*_matte.*")); len(ms) > 0 {
			return true
		}
	}
	return false
}

func scanPFCNMatting(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	var cands []Candidate
	var rejects []Reject
	for _, dir := range []string{"training", "testing"} {
		if !IsDir(filepath.Join(src, dir)) {
			continue
		}
		files, rj, err := listFiles(ctx, src, dir)
		if err != nil {
			return nil, nil, err
		}
		rejects = append(rejects, rj...)
		mattes := map[string]string{}
		var images []string
		for _, f := range files {
			if s := stemOf(f); strings.HasSuffix(s, "_matte") {
				mattes[strings.TrimSuffix(s, "_matte")] = f
			} else {
				images = append(images, f)
			}
		}
		split := map[string]string{"training": "train", "testing": "test"}[dir]
		used := map[string]bool{}
		for _, img := range images {
			matte := mattes[stemOf(img)]
			if matte == "" {
				rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner,
					Reason: fmt.Sprintf("no matte %s/%s_matte.png", dir, stemOf(img))})
				continue
			}
			used[stemOf(img)] = true
			cands = append(cands, Candidate{
				Key: img, Image: img, Split: split, Sources: []string{img, matte},
				Labels: func(src string, d Decoder) (Labels, error) {
					a, notes, err := readLabel(src, matte, d)
					if err != nil {
						return Labels{}, err
					}
					return Labels{Alpha: a, Mask: maskFromAlpha(a), Notes: notes}, nil
				},
			})
		}
		rejects = append(rejects, unpaired(mattes, used, func(string) string { return "no image for this matte" })...)
	}
	return cands, rejects, nil
}

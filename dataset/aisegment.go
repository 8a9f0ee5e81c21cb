package dataset

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// aiSegment is the "Matting Human Datasets" (AISegment.com) layout:
// clip_img/<group>/clip_<k>/<name>.jpg with the RGBA matte in
// matting/<group>/matting_<k>/<name>.png, whose 4th channel is the alpha.
type aiSegment struct{}

func (aiSegment) Name() string { return "aisegment" }

func (aiSegment) Recognise() string {
	return "clip_img/ and matting/: clip_img/<group>/clip_<k>/<name>.jpg with matting/<group>/matting_<k>/<name>.png (RGBA)"
}

func (aiSegment) Detect(src string) bool {
	return isDir(filepath.Join(src, "clip_img")) && isDir(filepath.Join(src, "matting"))
}

// mattingPath maps clip_img/<g>/clip_<k>/<name>.jpg to its matte's path.
func mattingPath(img string) string {
	parts := strings.Split(img, "/")
	parts[0] = "matting"
	if len(parts) >= 3 {
		parts[2] = strings.Replace(parts[2], "clip_", "matting_", 1)
	}
	last := len(parts) - 1
	parts[last] = strings.TrimSuffix(parts[last], path.Ext(parts[last])) + ".png"
	return strings.Join(parts, "/")
}

func (aiSegment) Scan(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	images, rejects, err := listFiles(ctx, src, "clip_img")
	if err != nil {
		return nil, nil, err
	}
	mattes, mrej, err := listFiles(ctx, src, "matting")
	if err != nil {
		return nil, nil, err
	}
	rejects = append(rejects, mrej...)
	have := map[string]bool{}
	for _, m := range mattes {
		have[m] = true
	}
	used := map[string]bool{}
	var cands []Candidate
	for _, img := range images {
		matte := mattingPath(img)
		if !have[matte] {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("no matte %s", matte)})
			continue
		}
		used[matte] = true
		cands = append(cands, Candidate{
			Key: strings.TrimPrefix(img, "clip_img/"), Image: img, Sources: []string{img, matte},
			Labels: func(src string) (Labels, error) {
				b, err := readFile(src, matte)
				if err != nil {
					return Labels{}, err
				}
				a, err := DecodeAlphaOfRGBA(matte, b)
				if err != nil {
					return Labels{}, err
				}
				return Labels{Alpha: a, Mask: maskFromAlpha(a)}, nil
			},
		})
	}
	for _, m := range mattes {
		if !used[m] {
			rejects = append(rejects, Reject{Source: []string{m}, Stage: "scan", Code: CodeMissingPartner,
				Reason: "no clip_img image for this matte"})
		}
	}
	return cands, rejects, nil
}

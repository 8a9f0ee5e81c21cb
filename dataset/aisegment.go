package dataset

import (
	"context"
	"fmt"
	"path"
	"strings"
)

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

// scanAISegment reads the "Matting Human Datasets" (AISegment.com) layout:
// clip_img/<group>/clip_<k>/<name>.jpg with the RGBA matte in
// matting/<group>/matting_<k>/<name>.png, whose 4th channel is the alpha.
func scanAISegment(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	var cands []Candidate
	rejects, err := pairing{
		images: "clip_img", labels: "matting",
		imageKey: mattingPath, labelKey: func(m string) string { return m },
		missing: func(matte string) string { return fmt.Sprintf("no matte %s", matte) },
		orphan:  func(string) string { return "no clip_img image for this matte" },
	}.scan(ctx, src, func(img, matte, _ string) []Reject {
		cands = append(cands, Candidate{
			Key: strings.TrimPrefix(img, "clip_img/"), Image: img, Sources: []string{img, matte},
			Labels: func(src string, d Decoder) (Labels, error) {
				b, err := readFile(src, matte)
				if err != nil {
					return Labels{}, err
				}
				a, err := d.AlphaOfRGBA(matte, b)
				if err != nil {
					return Labels{}, err
				}
				return Labels{Alpha: a, Mask: maskFromAlpha(a)}, nil
			},
		})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return cands, rejects, nil
}

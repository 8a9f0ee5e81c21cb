package dataset

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"
)

// detectFolder finds the plain layout: images/ with masks/ and/or alphas/
// and optional trimaps/, paired by the path stem below each folder.
func detectFolder(src string) bool {
	return IsDir(filepath.Join(src, ImagesDir)) &&
		(IsDir(filepath.Join(src, MasksDir)) || IsDir(filepath.Join(src, AlphasDir)))
}

// stemIndex maps the extension-less path below root to the file, rejecting
// a second file with the same stem.
func stemIndex(ctx context.Context, src, root string) (map[string]string, []Reject, error) {
	idx := map[string]string{}
	if !IsDir(filepath.Join(src, root)) {
		return idx, nil, nil
	}
	files, rejects, err := listFiles(ctx, src, root)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		k := strings.TrimSuffix(strings.TrimPrefix(f, root+"/"), path.Ext(f))
		if prev, dup := idx[k]; dup {
			rejects = append(rejects, Reject{Source: []string{f}, Stage: "scan", Code: CodeDuplicateID,
				Reason: fmt.Sprintf("another file with the same stem is used: %s", prev)})
			continue
		}
		idx[k] = f
	}
	return idx, rejects, nil
}

func scanFolder(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	images, rejects, err := listFiles(ctx, src, ImagesDir)
	if err != nil {
		return nil, nil, err
	}
	idx := map[string]map[string]string{}
	for _, sub := range []string{MasksDir, AlphasDir, TrimapsDir} {
		m, rj, err := stemIndex(ctx, src, sub)
		if err != nil {
			return nil, nil, err
		}
		idx[sub] = m
		rejects = append(rejects, rj...)
	}
	var cands []Candidate
	used := map[string]bool{}
	for _, img := range images {
		key := strings.TrimPrefix(img, ImagesDir+"/")
		stem := strings.TrimSuffix(key, path.Ext(key))
		mask, alpha, tri := idx[MasksDir][stem], idx[AlphasDir][stem], idx[TrimapsDir][stem]
		if mask == "" && alpha == "" {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("no mask or alpha for this image (looked for masks/%s.* and alphas/%s.*)", stem, stem)})
			continue
		}
		used[stem] = true
		c := Candidate{Key: key, Image: img, Sources: nonEmpty(img, mask, alpha, tri)}
		c.Labels = func(src string, d Decoder) (Labels, error) { return loadFolderLabels(src, d, mask, alpha, tri) }
		cands = append(cands, c)
	}
	for _, sub := range []string{MasksDir, AlphasDir, TrimapsDir} {
		rejects = append(rejects, unpaired(idx[sub], used, func(stem string) string {
			return fmt.Sprintf("no image for this label (looked for images/%s.*)", stem)
		})...)
	}
	return cands, rejects, nil
}

func nonEmpty(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func loadFolderLabels(src string, d Decoder, mask, alpha, tri string) (l Labels, err error) {
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if alpha != "" {
		b, err := readFile(src, alpha)
		if err != nil {
			return l, err
		}
		if l.Alpha, _, l.Notes, err = d.Label(alpha, b); err != nil {
			return l, err
		}
	}
	if mask != "" {
		b, err := readFile(src, mask)
		if err != nil {
			return l, err
		}
		m, palette, notes, err := d.Label(mask, b)
		if err != nil {
			return l, err
		}
		l.Notes = append(l.Notes, notes...)
		if palette {
			l.Mask = maskNonZero(m)
			m.Close()
			l.Notes = append(l.Notes, "palette mask: index > 0 taken as person")
		} else {
			l.Mask, l.Thresholded = binariseMask(m)
		}
	} else {
		l.Mask = maskFromAlpha(l.Alpha)
	}
	if tri != "" {
		b, err := readFile(src, tri)
		if err != nil {
			return l, err
		}
		var notes []string
		if l.Trimap, _, notes, err = d.Label(tri, b); err != nil {
			return l, err
		}
		l.Notes = append(l.Notes, notes...)
		if snapTrimap(l.Trimap) {
			l.Notes = append(l.Notes, "trimap values snapped to 0/128/255")
		}
	}
	return l, nil
}

// snapTrimap maps every value to the nearest of 0, 128 and 255 in place and
// reports whether any value changed.
func snapTrimap(m gocv.Mat) bool {
	px, _ := m.DataPtrUint8()
	changed := false
	for i, v := range px {
		var s uint8
		switch {
		case v < 64:
			s = 0
		case v < 192:
			s = 128
		default:
			s = 255
		}
		if s != v {
			px[i] = s
			changed = true
		}
	}
	return changed
}

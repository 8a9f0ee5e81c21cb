package dataset

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/segtool/segtool/matfile"
	"gocv.io/x/gocv"
)

// detectPFCNEG finds the EG 2016 release of Shen et al. ("EG1800"):
// images_data_crop/NNNNN.jpg with images_mask/NNNNN_mask.mat (a MATLAB v5
// matrix, column-major on disk) and trainlist.mat / testlist.mat listing
// image numbers. The common PNG re-distribution, Images/NNNNN.png with
// Labels/NNNNN.png and eg1800_train.txt / eg1800_test.txt, is read too.
// In both, the person is label > 0.
func detectPFCNEG(src string) bool {
	return hasDirs("images_data_crop", "images_mask")(src) || hasDirs("Images", "Labels")(src)
}

func scanPFCNEG(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	if IsDir(filepath.Join(src, "images_data_crop")) {
		return scanPFCNEGLayout(ctx, src, "images_data_crop", "images_mask", func(stem string) string { return stem + "_mask.mat" },
			[2]string{"trainlist.mat", "testlist.mat"}, readMatList, loadMatMask)
	}
	return scanPFCNEGLayout(ctx, src, "Images", "Labels", func(stem string) string { return stem + ".png" },
		[2]string{"eg1800_train.txt", "eg1800_test.txt"}, readTextList, loadPNGLabel)
}

func scanPFCNEGLayout(ctx context.Context, src, imgDir, labelDir string, labelName func(string) string,
	lists [2]string, readList func(string) ([]string, error), load func(string, string, Decoder) (Labels, error)) ([]Candidate, []Reject, error) {
	images, rejects, err := listFiles(ctx, src, imgDir)
	if err != nil {
		return nil, nil, err
	}
	splitOf := map[string]string{}
	for i, list := range lists {
		p := filepath.Join(src, list)
		if !IsFile(p) {
			continue
		}
		stems, err := readList(p)
		if err != nil {
			return nil, nil, fmt.Errorf("split list %s: %w", list, err)
		}
		for _, s := range stems {
			splitOf[s] = [2]string{"train", "test"}[i]
		}
	}
	var cands []Candidate
	for _, img := range images {
		stem := stemOf(img)
		label := labelDir + "/" + labelName(stem)
		if !IsFile(filepath.Join(src, label)) {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("no mask %s", label)})
			continue
		}
		cands = append(cands, Candidate{
			Key: strings.TrimPrefix(img, imgDir+"/"), Image: img, Split: splitOf[stem], Sources: []string{img, label},
			Labels: func(src string, d Decoder) (Labels, error) { return load(src, label, d) },
		})
	}
	return cands, rejects, nil
}

// readMatList reads a split list stored as a MATLAB matrix of image numbers
// (1-based, as in the EG1800 release) and returns the zero-padded stems.
func readMatList(p string) ([]string, error) {
	vars, err := matfile.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if len(vars) == 0 {
		return nil, fmt.Errorf("no numeric variable")
	}
	var stems []string
	for _, v := range vars[0].Data {
		if v != math.Trunc(v) || v < 0 {
			return nil, fmt.Errorf("entry %g is not an image number", v)
		}
		stems = append(stems, fmt.Sprintf("%05d", int(v)))
	}
	return stems, nil
}

// readTextList reads one file name per line and returns their stems.
func readTextList(p string) ([]string, error) {
	b, err := readFile(filepath.Dir(p), filepath.Base(p))
	if err != nil {
		return nil, err
	}
	var stems []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			stems = append(stems, stemOf(l))
		}
	}
	return stems, sc.Err()
}

func loadMatMask(src, rel string, _ Decoder) (Labels, error) {
	vars, err := matfile.ReadFile(filepath.Join(src, rel))
	if err != nil {
		return Labels{}, &SampleError{Code: CodeCorrupt, Path: rel, Err: err}
	}
	for _, v := range vars {
		if len(v.Dims) != 2 {
			continue
		}
		px, err := v.RowMajorUint8()
		if err != nil {
			return Labels{}, &SampleError{Code: CodeCorrupt, Path: rel, Err: err}
		}
		m, err := gocv.NewMatFromBytes(v.Rows(), v.Cols(), gocv.MatTypeCV8UC1, px)
		if err != nil {
			return Labels{}, &SampleError{Code: CodeCorrupt, Path: rel, Err: err}
		}
		defer m.Close()
		return Labels{Mask: maskNonZero(m)}, nil
	}
	return Labels{}, sampleErr(CodeCorrupt, rel, "MAT-file holds no 2-D numeric matrix")
}

func loadPNGLabel(src, rel string, d Decoder) (Labels, error) {
	m, notes, err := readLabel(src, rel, d)
	if err != nil {
		return Labels{}, err
	}
	defer m.Close()
	return Labels{Mask: maskNonZero(m), Notes: notes}, nil
}

package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// Run is a finished eval run folder as the report reads it.
type Run struct {
	// Name labels the run in tables and legends: the folder's name, made
	// unique among the runs of one report by Label.
	Name string
	// Dir is the run folder ("" when the run was given as a results.json
	// file).
	Dir     string
	Results eval.Results
	// Key is run.json as written; nil when absent.
	Key []byte
	// Rows are per_image.jsonl in file order; nil when absent.
	Rows []eval.Row
	// FG is each sample's fg_fraction from the dataset manifest (nil when
	// the dataset cannot be read); Samples are the manifest rows by id.
	FG      map[string]float64
	Samples map[string]dataset.Sample
	// Notes say what could not be read and what that leaves out.
	Notes []string
}

// Load reads a run folder, or a results.json file on its own (hand-made
// results for a gate; then there are no per-image plots). results.json is
// required: a run without it did not finish.
func Load(path string) (*Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	r := &Run{}
	resPath := path
	if st.IsDir() {
		r.Dir = path
		r.Name = filepath.Base(filepath.Clean(path))
		resPath = filepath.Join(path, eval.ResultsFile)
	} else {
		r.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if r.Name == "results" {
			r.Name = filepath.Base(filepath.Dir(filepath.Clean(path)))
		}
	}
	b, err := os.ReadFile(resPath)
	if errors.Is(err, fs.ErrNotExist) && st.IsDir() {
		return nil, fmt.Errorf("%s has no %s: %w", path, eval.ResultsFile, eval.ErrUnfinished)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.Results); err != nil {
		// A newer segtool may add fields; read what is known.
		r.Results = eval.Results{}
		if err2 := json.Unmarshal(b, &r.Results); err2 != nil {
			return nil, fmt.Errorf("%s: %w", resPath, err2)
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s has fields this segtool does not know (%v)", resPath, err))
	}
	if len(r.Results.Metrics) == 0 {
		return nil, fmt.Errorf("%s: no metrics (not an eval results.json?)", resPath)
	}
	if r.Dir == "" {
		r.Notes = append(r.Notes, "given as a results.json file: no per-image rows, so no per-image plots")
		return r, nil
	}
	if k, err := os.ReadFile(filepath.Join(path, eval.RunFile)); err == nil {
		r.Key = k
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("no %s", eval.RunFile))
	}
	rows, err := eval.ReadRows(filepath.Join(path, eval.JournalFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Notes = append(r.Notes, fmt.Sprintf("no %s: no per-image plots", eval.JournalFile))
	case err != nil:
		return nil, err
	default:
		r.Rows = rows
	}
	r.loadDataset()
	return r, nil
}

// loadDataset reads the dataset's manifest for fg_fraction and the gallery.
// A dataset that moved or changed is a note, not an error.
func (r *Run) loadDataset() {
	p := r.Results.Dataset.Path
	if p == "" {
		return
	}
	ds, err := dataset.Open(p)
	if err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("dataset %s not readable (%v): foreground fractions come from the scores, no gallery", p, err))
		return
	}
	if sum, err := dataset.FileSHA256(filepath.Join(p, dataset.ManifestFile)); err == nil && !matchesDataset(&r.Results, ds, sum) {
		r.Notes = append(r.Notes, fmt.Sprintf("dataset %s changed since the run (manifest sha256 differs): foreground fractions come from the scores, no gallery", p))
		return
	}
	r.FG = map[string]float64{}
	r.Samples = map[string]dataset.Sample{}
	for _, s := range ds.Samples {
		r.FG[s.ID] = s.FGFrac
		r.Samples[s.ID] = s
	}
}

// Label makes run names unique by prefixing parent folders where two runs
// share a name.
func Label(runs []*Run) {
	for depth := 1; depth < 8; depth++ {
		seen := map[string]int{}
		for _, r := range runs {
			seen[r.Name]++
		}
		dup := false
		for _, r := range runs {
			if seen[r.Name] > 1 && r.Dir != "" {
				parts := strings.Split(filepath.ToSlash(filepath.Clean(r.Dir)), "/")
				r.Name = strings.Join(parts[max(0, len(parts)-1-depth):], "/")
				dup = true
			}
		}
		if !dup {
			break
		}
	}
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Name]++
		if n := seen[r.Name]; n > 1 {
			r.Name = fmt.Sprintf("%s#%d", r.Name, n)
		}
	}
}

// scored returns the rows with a score, in file order.
func (r *Run) scored() []eval.Row {
	var out []eval.Row
	for _, row := range r.Rows {
		if row.Status == eval.StatusOK && row.Score != nil {
			out = append(out, row)
		}
	}
	return out
}

// PerImage returns the per-image values of a registered metric over the
// scored rows where it is defined, with their ids.
func (r *Run) PerImage(metric string) (ids []string, vals []float64, err error) {
	m, ok := eval.DefaultRegistry().Lookup(metric)
	if !ok {
		return nil, nil, fmt.Errorf("no per-image metric %q (known: %s)", metric, strings.Join(eval.DefaultRegistry().Names(), ", "))
	}
	for _, row := range r.scored() {
		if v, ok := m.PerImage(row.Score); ok {
			ids = append(ids, row.ID)
			vals = append(vals, v)
		}
	}
	return ids, vals, nil
}

// Latencies returns the per-image times in ms of the timed rows (scored or
// non-finite, as eval's latency figures count them): inference alone
// (nil for a run of saved predictions) and end to end.
func (r *Run) Latencies() (inference, endToEnd []float64) {
	for _, row := range r.Rows {
		if row.Status != eval.StatusOK && row.Status != eval.StatusNonFinite {
			continue
		}
		if r.Results.Model != nil {
			inference = append(inference, row.MS.Inference)
		}
		endToEnd = append(endToEnd, row.MS.Total)
	}
	return inference, endToEnd
}

// FGFraction returns the foreground fraction of a scored row: the
// manifest's fg_fraction where the dataset is readable, else the mask's
// share of pixels from the score ((TP+FN)/pixels, the mask >= 128 count).
func (r *Run) FGFraction(row *eval.Row) float64 {
	if f, ok := r.FG[row.ID]; ok {
		return f
	}
	px := row.Score.Pixels()
	if px == 0 {
		return 0
	}
	return float64(row.Score.TP+row.Score.FN) / float64(px)
}

// metric returns the run's summary of the named metric.
func (r *Run) metric(name string) (eval.MetricSummary, bool) {
	i := slices.IndexFunc(r.Results.Metrics, func(m eval.MetricSummary) bool { return m.Name == name })
	if i < 0 {
		return eval.MetricSummary{}, false
	}
	return r.Results.Metrics[i], true
}

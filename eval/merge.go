package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/segtool/segtool/dataset"
)

// This file exports what `segtool report` needs to read finished runs and
// to write a run folder from rows scored elsewhere (report merge).

// ReadRows reads a finished run's per_image.jsonl. Unlike a resume, which
// drops a line cut short by a kill, a finished run's journal must be whole:
// a torn last line is an error here.
func ReadRows(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return nil, fmt.Errorf("%s: the last line is cut short: %w", path, ErrUnfinished)
	}
	return readJournal(path)
}

// Rebuild recomputes everything in res that derives from the rows: the
// counts (but Resumed), the problems, the number of samples, the metrics,
// the sweep and the totals, and the latency and stage figures of the
// timing. Rows are added in the order given, as Run adds them (the
// selection's order), so the same rows in the same order give the same
// numbers bit for bit. The rest of res (what ran, where, wall time,
// throughput, memory) is the caller's to set.
func Rebuild(res *Results, rows []Row) error {
	resumed := res.Counts.Resumed
	res.Counts = Counts{Selected: len(rows), Resumed: resumed}
	res.Problems = nil
	for _, row := range rows {
		switch row.Status {
		case StatusOK:
			res.Counts.Scored++
		case StatusError:
			res.Counts.Errors++
		case StatusSkipped:
			res.Counts.Skipped++
		case StatusNonFinite:
			res.Counts.NonFinite++
		default:
			return fmt.Errorf("eval: row %s: unknown status %q", row.ID, row.Status)
		}
		if row.Status != StatusOK {
			res.Problems = append(res.Problems, Problem{ID: row.ID, Status: row.Status, Path: row.Path, Reason: row.Reason})
		}
	}
	// The same aggregation as Results.fill: every registered metric of
	// the groups the run computed, the scored rows in order.
	// Video metrics are over clips, not images (videoSummaries).
	ms := runMetrics(res.Options.Skip, hasClips(rows))
	agg := NewAggregator(slices.DeleteFunc(slices.Clone(ms), func(m Metric) bool { return m.PerClip != nil }))
	for i := range rows {
		if rows[i].Status == StatusOK && rows[i].Score != nil {
			if err := agg.Add(rows[i].Score); err != nil {
				return fmt.Errorf("%s: %w", rows[i].ID, err)
			}
		}
	}
	a := agg.Result()
	res.Metrics, res.Sweep, res.Totals = a.Metrics, a.Sweep, a.Totals
	clips := Clips(rows)
	res.Counts.Clips = len(clips)
	res.Metrics = append(res.Metrics, videoSummaries(ms, clips)...)
	if err := rebuildInstances(res, rows); err != nil {
		return err
	}
	res.Dataset.Samples = len(rows)

	// timing without a session computes the end-to-end latency and the
	// stage means; a model run also has per-image inference times.
	t := timing(rows, &stages{}, 0, 0)
	res.Timing.EndToEnd, res.Timing.Stages = t.EndToEnd, t.Stages
	res.Timing.Inference = Latency{}
	if res.Model != nil {
		res.Timing.Inference = rowsInference(rows)
	}
	return nil
}

// rowsInference is the latency of the model's calls over the rows that
// made one: the scored ones and those whose output was NaN or Inf.
func rowsInference(rows []Row) Latency {
	var inf []float64
	for _, r := range rows {
		if r.Status == StatusOK || r.Status == StatusNonFinite {
			inf = append(inf, r.MS.Inference)
		}
	}
	return latency(inf)
}

// WriteRun writes a run folder from rows and their results: per_image.jsonl
// (the rows in the order given), per_image.csv, results.json and run.json
// (key, written as given). The folder must not hold a run already.
func WriteRun(dir string, key []byte, res *Results, rows []Row) error {
	for _, n := range []string{JournalFile, ResultsFile, RunFile} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return fmt.Errorf("%s: %w", dir, ErrExists)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := dataset.WriteFileAtomic(filepath.Join(dir, RunFile), key); err != nil {
		return err
	}
	if err := dataset.WriteFileAtomic(filepath.Join(dir, JournalFile), buf.Bytes()); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, CSVFile), rows, res.Options.Skip); err != nil {
		return err
	}
	if hasClips(rows) {
		if err := writeClipCSV(filepath.Join(dir, PerClipFile), Clips(rows)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return dataset.WriteFileAtomic(filepath.Join(dir, ResultsFile), append(b, '\n'))
}

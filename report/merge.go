package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// ErrMissingShards reports shards missing from a merge without Partial:
// the merged run would not cover the selection.
var ErrMissingShards = errors.New("the merged run would not cover the selection")

// MergeOptions control Merge.
type MergeOptions struct {
	// Out is the merged run folder; it must not hold a run.
	Out string
	// Partial allows merging an incomplete set of shards.
	Partial bool
}

// MergeInfo says what Merge did.
type MergeInfo struct {
	Runs  int `json:"runs"`
	Rows  int `json:"rows"`
	Files int `json:"files"` // preds/ and overlays/ files carried over
	// Order is where the row order came from.
	Order string   `json:"order"`
	Notes []string `json:"notes,omitempty"`
}

// Merge joins runs made on disjoint shards of one selection (eval --shard)
// into one run folder with exact aggregates: the rows, put in the dataset
// manifest's order (the order an unsharded run adds them in), go through
// eval.Rebuild, the aggregation eval.Run does. So the merged results.json
// has the same counts, metrics, sweep and totals as one unsharded run, bit
// for bit, and its run.json is the shards' without the shard.
//
// Refused: runs whose run.json differ in anything but "shard" (a different
// model, dataset, threshold...), overlapping sample ids, unfinished runs,
// shards of different counts, and (without Partial) a missing shard.
//
// Timing: latencies and stage means are recomputed from the rows; the
// wall time is the longest shard's (shards run in parallel), images/s the
// merged images over it, peak memory the largest shard's.
func Merge(dirs []string, o MergeOptions) (*eval.Results, *MergeInfo, error) {
	if len(dirs) < 2 {
		return nil, nil, fmt.Errorf("merge: give at least two runs")
	}
	if o.Out == "" {
		return nil, nil, fmt.Errorf("merge: no output folder")
	}
	info := &MergeInfo{Runs: len(dirs)}
	var runs []*Run
	var key []byte
	var shards []*eval.Shard
	for i, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			return nil, nil, fmt.Errorf("%s: merge reads run folders, not files", d)
		}
		r, err := Load(d)
		if err != nil {
			return nil, nil, err
		}
		if r.Key == nil {
			return nil, nil, fmt.Errorf("%s has no %s: cannot check that the runs measured the same thing", d, eval.RunFile)
		}
		if r.Rows == nil {
			return nil, nil, fmt.Errorf("%s has no %s: nothing to merge", d, eval.JournalFile)
		}
		k, sh, err := stripShard(r.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(d, eval.RunFile), err)
		}
		if i == 0 {
			key = k
		} else if !bytes.Equal(k, key) {
			return nil, nil, fmt.Errorf("%s and %s measured different things (%s differs apart from the shard: %s)", dirs[0], d, eval.RunFile, eval.LineDiff(key, k, "%s vs %s", "one is longer"))
		}
		runs = append(runs, r)
		shards = append(shards, sh)
	}
	if err := checkShards(dirs, shards, o.Partial); err != nil {
		return nil, nil, err
	}

	// Disjoint ids, then the selection's order.
	from := map[string]int{}
	var rows []eval.Row
	var dup []string
	for i, r := range runs {
		for _, row := range r.Rows {
			if j, ok := from[row.ID]; ok {
				dup = append(dup, fmt.Sprintf("%s (in %s and %s)", row.ID, dirs[j], dirs[i]))
				continue
			}
			from[row.ID] = i
			rows = append(rows, row)
		}
	}
	if len(dup) > 0 {
		n := len(dup)
		if n > 5 {
			dup = append(dup[:5], "...")
		}
		return nil, nil, fmt.Errorf("the runs overlap: %d sample ids appear twice: %s", n, strings.Join(dup, ", "))
	}
	order, how, err := manifestOrder(&runs[0].Results)
	if err != nil {
		return nil, nil, err
	}
	info.Order = how
	if order != nil {
		for _, row := range rows {
			if _, ok := order[row.ID]; !ok {
				return nil, nil, fmt.Errorf("sample %s (from %s) is not in the dataset manifest", row.ID, dirs[from[row.ID]])
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return order[rows[i].ID] < order[rows[j].ID] })
	} else {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	}

	res := runs[0].Results
	res.Dataset.Shard = nil
	res.Counts.Resumed = 0
	res.Timing = eval.Timing{WarmupRuns: runs[0].Results.Timing.WarmupRuns}
	for _, r := range runs {
		t := r.Results.Timing
		res.Counts.Resumed += r.Results.Counts.Resumed
		res.Timing.Images += t.Images
		res.Timing.WallS = max(res.Timing.WallS, t.WallS)
		res.Timing.SessionMS = max(res.Timing.SessionMS, t.SessionMS)
		res.Timing.Calls += t.Calls
		res.Timing.PeakRSSMiB = max(res.Timing.PeakRSSMiB, t.PeakRSSMiB)
		res.Timing.PeakGPUMemMiB = max(res.Timing.PeakGPUMemMiB, t.PeakGPUMemMiB)
		if e := r.Results.Environment; e.CPU != res.Environment.CPU || e.GPU != res.Environment.GPU || e.Provider != res.Environment.Provider {
			info.Notes = appendOnce(info.Notes, "the shards ran on different hardware: the merged latencies mix machines")
		}
	}
	if res.Timing.WallS > 0 {
		res.Timing.Throughput = float64(res.Timing.Images) / res.Timing.WallS
	}
	if err := eval.Rebuild(&res, rows); err != nil {
		return nil, nil, err
	}
	if err := eval.WriteRun(o.Out, key, &res, rows); err != nil {
		return nil, nil, err
	}
	info.Rows = len(rows)
	if err := mergeDetections(o.Out, dirs, rows); err != nil {
		return nil, nil, err
	}
	for _, sub := range []string{eval.PredsDir, eval.OverlaysDir} {
		n, err := carry(o.Out, sub, dirs, rows, from)
		if err != nil {
			return nil, nil, err
		}
		info.Files += n
	}
	return &res, info, nil
}

func appendOnce(xs []string, s string) []string {
	if slices.Contains(xs, s) {
		return xs
	}
	return append(xs, s)
}

// checkShards refuses a mix of shard counts, repeated indices, a run that
// is not a shard among shards, and (unless partial) missing shards.
func checkShards(dirs []string, shards []*eval.Shard, partial bool) error {
	var count int
	seen := map[int]string{}
	for i, sh := range shards {
		if sh == nil {
			if slices.ContainsFunc(shards, func(s *eval.Shard) bool { return s != nil }) {
				return fmt.Errorf("%s is not a shard (its %s has no shard) but other runs are", dirs[i], eval.RunFile)
			}
			continue
		}
		if count == 0 {
			count = sh.Count
		}
		if sh.Count != count {
			return fmt.Errorf("%s is shard %d of %d, %s of %d: different shardings", dirs[i], sh.Index, sh.Count, dirs[0], count)
		}
		if d, ok := seen[sh.Index]; ok {
			return fmt.Errorf("%s and %s are both shard %d of %d", d, dirs[i], sh.Index, count)
		}
		seen[sh.Index] = dirs[i]
	}
	if count > 0 && len(seen) < count && !partial {
		var missing []string
		for i := range count {
			if _, ok := seen[i]; !ok {
				missing = append(missing, fmt.Sprint(i))
			}
		}
		return fmt.Errorf("shards %s of %d are missing: %w", strings.Join(missing, ", "), count, ErrMissingShards)
	}
	return nil
}

// manifestOrder returns each sample's position in the dataset manifest,
// checked against the run's manifest hash. Without a readable dataset it
// returns nil: canonical manifests are written sorted by id
// (dataset.EncodeRows), so id order is the manifest's order.
func manifestOrder(res *eval.Results) (map[string]int, string, error) {
	p := res.Dataset.Path
	ds, err := dataset.Open(p)
	if err != nil {
		return nil, fmt.Sprintf("sample id (dataset %s not readable: %v; canonical manifests are sorted by id)", p, err), nil
	}
	sum, err := dataset.FileSHA256(filepath.Join(p, dataset.ManifestFile))
	if err != nil {
		return nil, "", err
	}
	if !matchesDataset(res, ds, sum) {
		return nil, "", fmt.Errorf("dataset %s changed since the runs (manifest sha256 %s, the runs saw %s): cannot put the rows in the runs' order", p, short(sum), short(res.Dataset.ManifestSHA256))
	}
	order := map[string]int{}
	for i, s := range ds.Samples {
		order[s.ID] = i
	}
	return order, "the dataset manifest " + filepath.Join(p, dataset.ManifestFile), nil
}

// stripShard returns run.json without its "shard" key, re-indented the way
// eval writes it (json.MarshalIndent, two spaces), and the shard.
func stripShard(b []byte) ([]byte, *eval.Shard, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var compact bytes.Buffer
	compact.WriteByte('{')
	var sh *eval.Shard
	n := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, err
		}
		if k == "shard" {
			if err := json.Unmarshal(raw, &sh); err != nil {
				return nil, nil, fmt.Errorf("shard: %w", err)
			}
			continue
		}
		if n > 0 {
			compact.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		compact.Write(kb)
		compact.WriteByte(':')
		if err := json.Compact(&compact, raw); err != nil {
			return nil, nil, err
		}
	}
	compact.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), sh, nil
}

// carry hard-links (or copies) each row's file in sub/ from its shard into
// the merged run.
func carry(out, sub string, dirs []string, rows []eval.Row, from map[string]int) (int, error) {
	ext := ".png"
	if sub == eval.OverlaysDir {
		ext = ".jpg"
	}
	n := 0
	for _, row := range rows {
		src := filepath.Join(dirs[from[row.ID]], sub, row.ID+ext)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if n == 0 {
			if err := os.MkdirAll(filepath.Join(out, sub), 0o755); err != nil {
				return n, err
			}
		}
		dst := filepath.Join(out, sub, row.ID+ext)
		if err := os.Link(src, dst); err != nil {
			if err := copyFile(src, dst); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

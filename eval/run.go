package eval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// Files in a run folder.
const (
	JournalFile = "per_image.jsonl" // rows appended as images finish
	CSVFile     = "per_image.csv"
	ResultsFile = "results.json"
	RunFile     = "run.json" // what the run measures, checked on resume
	PredsDir    = "preds"
	OverlaysDir = "overlays"
)

// runKey is everything that decides the metrics. A resume refuses to mix
// rows measured under a different key.
//
// The dataset is its identity (dataset.IdentitySHA256), not the manifest's
// bytes, so a column added since the run began (segtool trimap) does not
// stop a resume while other samples or masks do. The trimaps, which the
// identity leaves out but the *_unknown metrics read, are Trimaps (a
// fingerprint of the dataset's trimaps, set only when the matting
// metrics are computed); see prepareOut for a resume after they changed.
type runKey struct {
	Model          string       `json:"model,omitempty"`
	ModelSHA256    string       `json:"model_sha256,omitempty"`
	Preds          string       `json:"preds,omitempty"`
	Spec           *models.Spec `json:"spec,omitempty"`
	Dataset        string       `json:"dataset"`
	SamplesSHA256  string       `json:"samples_sha256"`
	Trimaps        string       `json:"trimaps_sha256,omitempty"`
	ManifestSHA256 string       `json:"-"` // for results.json only
	Splits         []string     `json:"splits"`
	Limit          int          `json:"limit,omitempty"`
	Shard          *Shard       `json:"shard,omitempty"`
	Fit            models.Fit   `json:"fit,omitempty"`
	Tile           [2]int       `json:"tile,omitempty"`
	Overlap        int          `json:"overlap,omitempty"`
	TileMode       string       `json:"tile_mode,omitempty"`
	Threshold      float64      `json:"threshold"`
	Sweep          []float64    `json:"sweep"`
	Skip           []string     `json:"skip_metrics,omitempty"`
	Temporal       string       `json:"temporal,omitempty"` // a filter other than none
	// An instance run's score threshold, and its results file's digest.
	ScoreThreshold float64 `json:"score_threshold,omitempty"`
	PredsSHA256    string  `json:"preds_sha256,omitempty"`
}

// Run evaluates cfg and writes the run folder. Per-image failures are rows,
// not errors: Run fails only for bad options, an unreadable dataset, an
// empty selection, a failing session, a failed write, cancellation or
// FailFast, and with ErrNothingScored (and the Results) when every row is
// a failure.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ds, err := dataset.Open(cfg.Dataset)
	if err != nil {
		return nil, &OptionError{Field: "Dataset", Err: err}
	}
	samples, err := selectSamples(ds.Samples, cfg.Splits, cfg.Limit, cfg.Shard)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%w: split %s of %s is empty", ErrNoSamples, strings.Join(cfg.Splits, ","), cfg.Dataset)
	}
	clipped := samplesHaveClips(samples)
	if !clipped && !cfg.Temporal.Off() {
		return nil, &OptionError{Field: "Temporal", Err: fmt.Errorf("%s filters a clip's frames, and %s has no clips (rows with clip and frame)", cfg.Temporal, cfg.Dataset)}
	}
	// Clips, and any image for a video model (a clip of one frame), run
	// through streams; the rest in batches.
	streamed := clipped || cfg.Model != "" && cfg.Spec.Stateful()
	if cfg.Preds != "" && !cfg.IsInstanceRun() {
		if st, err := os.Stat(cfg.Preds); err != nil || !st.IsDir() {
			return nil, &OptionError{Field: "Preds", Err: fmt.Errorf("%s is not a folder", cfg.Preds)}
		}
	}
	key, err := makeKey(&cfg, ds.Samples)
	if err != nil {
		return nil, err
	}
	// One writer per run folder: a second one, Force included, fails with
	// dataset.ErrLocked. The lock dies with the process.
	lock, err := dataset.LockOutput(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	done, noTrimaps, err := prepareOut(&cfg, &key)
	if err != nil {
		return nil, err
	}
	if cfg.IsInstanceRun() {
		return runInstances(ctx, &cfg, key, ds, samples, done)
	}

	if clipped {
		// A partly done clip is redone whole; its rows leave the journal.
		if kept, dropped := wholeClips(samples, done); dropped {
			done = kept
			if err := rewriteJournal(filepath.Join(cfg.Out, JournalFile), done); err != nil {
				return nil, err
			}
		}
	}

	res := &Results{}
	st := &stages{cfg: &cfg, write: cfg.writeFile, noTrimaps: noTrimaps}
	if st.write == nil {
		st.write = dataset.WriteFileAtomic
	}
	var memMon *models.GPUMonitor
	if cfg.Model != "" && cfg.Session.Device.Kind == "cuda" {
		// Started before the session, so its baseline excludes the
		// CUDA context and ONNX Runtime's arena.
		var err error
		if memMon, err = models.StartCUDAMonitor(cfg.Session.Device.ID, 0); err != nil {
			st.gpuErr = err.Error()
		}
		defer memMon.Stop()
	}
	if cfg.Model != "" {
		sess, err := models.Open(cfg.Model, cfg.Spec, cfg.Session)
		if err != nil {
			return nil, err
		}
		defer sess.Close()
		st.sess = sess
		if !streamed {
			// Three batches of a size: one filling, one running, one read.
			st.pool = sess.NewBatchPool(3)
			defer st.pool.Close()
			if st.inContext() {
				st.tilePool = sess.NewBatchPool(cfg.Workers)
				defer st.tilePool.Close()
			}
			st.free = make(chan []float32, 2*cfg.Batch+2*cfg.Workers)
		}
	}

	// Rows from an interrupted run are kept; the rest are scheduled.
	sc, err := openSchedule(cfg.Out, samples, done)
	if err != nil {
		return nil, err
	}
	defer sc.close()
	resumed, todo := sc.resumed, sc.todo

	if st.sess != nil && streamed {
		if err := st.predictor().CheckStream(); err != nil {
			return nil, err // a video model in tiles: an option error
		}
		if err := warmupStream(st, cfg.Warmup); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	} else if st.sess != nil {
		// Warm up every batch size the run will use, so that lazy
		// allocation and kernel selection (cuDNN's search runs per shape)
		// stay out of the timings.
		sizes := []int{cfg.Batch}
		st.padLast = st.sess.Provider == models.ProviderCUDA && cfg.Batch > 1
		if rest := len(todo) % cfg.Batch; !st.padLast && cfg.Tile == (image.Point{}) && rest != 0 && len(todo) > 0 {
			sizes = append(sizes, rest)
		}
		if err := warmup(st, sizes, cfg.Warmup); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}

	// Utilisation is read over the timed part only.
	var utilMon *models.GPUMonitor
	if memMon != nil && st.sess.Provider == models.ProviderCUDA {
		utilMon, _ = models.StartCUDAMonitor(cfg.Session.Device.ID, 0)
	}

	start := time.Now()
	runner := st.run
	if streamed {
		runner = st.runClips
	}
	runErr := runner(ctx, samples, todo, sc.emitter(&cfg))
	wall := time.Since(start)
	if memMon != nil && st.sess.Provider == models.ProviderCUDA {
		g := memMon.Stop().WithUtil(utilMon.Stop())
		st.gpu = &g
	}
	if runErr != nil {
		return nil, runErr
	}
	all, err := sc.finish()
	if err != nil {
		return nil, err
	}
	if err := res.fill(&cfg, key, key.SamplesSHA256, st, all, resumed, len(todo), wall); err != nil {
		return nil, err
	}
	return writeResults(&cfg, res, all)
}

// writeResults writes per_image.csv and results.json, and returns res,
// with ErrNothingScored when no image was scored.
func writeResults(cfg *Config, res *Results, all []Row) (*Results, error) {
	if err := writeCSV(filepath.Join(cfg.Out, CSVFile), all, cfg.Metrics.Skip); err != nil {
		return nil, err
	}
	if hasClips(all) {
		if err := writeClipCSV(filepath.Join(cfg.Out, PerClipFile), Clips(all)); err != nil {
			return nil, err
		}
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := dataset.WriteFileAtomic(filepath.Join(cfg.Out, ResultsFile), append(b, '\n')); err != nil {
		return nil, err
	}
	if c := res.Counts; c.Scored == 0 {
		return res, fmt.Errorf("%w: of %d selected images, %d are errors, %d gave NaN or Inf output, %d have no ground truth (see the problems in %s)",
			ErrNothingScored, c.Selected, c.Errors, c.NonFinite, c.Skipped, filepath.Join(cfg.Out, ResultsFile))
	}
	return res, nil
}

func selectSamples(all []dataset.Sample, splits []string, limit int, shard Shard) ([]dataset.Sample, error) {
	for _, s := range splits {
		if !slices.Contains(dataset.SplitNames(), s) {
			return nil, &OptionError{Field: "Splits", Err: fmt.Errorf("unknown split %q (want %s or all)", s, strings.Join(dataset.SplitNames(), ", "))}
		}
	}
	var out []dataset.Sample
	for _, s := range all {
		if len(splits) == 0 || slices.Contains(splits, s.Split) {
			out = append(out, s)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if shard.Count > 1 {
		out = shardSamples(out, shard) // whole clips
	}
	return out, nil
}

// makeKey returns the key of a run of cfg on a dataset of samples all.
// The trimaps are fingerprinted over all of them, as the identity is, so
// the shards of one run share a key.
func makeKey(cfg *Config, all []dataset.Sample) (runKey, error) {
	k := runKey{
		Dataset: cfg.Dataset, Splits: cfg.Splits, Limit: cfg.Limit,
		Threshold: cfg.Metrics.Threshold, Sweep: cfg.Metrics.Sweep, Skip: cfg.Metrics.Skip,
	}
	if k.Splits == nil {
		k.Splits = []string{}
	}
	if cfg.Shard.Count > 1 {
		sh := cfg.Shard
		k.Shard = &sh
	}
	if t := cfg.Temporal.String(); t != temporal.None {
		k.Temporal = t
	}
	var err error
	if k.ManifestSHA256, err = dataset.FileSHA256(filepath.Join(cfg.Dataset, dataset.ManifestFile)); err != nil {
		return k, err
	}
	k.SamplesSHA256 = dataset.IdentitySHA256(all)
	if cfg.Metrics.Computes(GroupMatting) {
		k.Trimaps = trimapsSHA256(all)
	}
	if cfg.Model != "" {
		k.Model = cfg.Model
		if k.ModelSHA256, err = dataset.FileSHA256(cfg.Model); err != nil {
			return k, &OptionError{Field: "Model", Err: err}
		}
		spec := cfg.Spec
		k.Spec = &spec
		k.Fit = cfg.Fit
		k.Tile = [2]int{cfg.Tile.X, cfg.Tile.Y}
		k.Overlap = cfg.Overlap
		k.TileMode = tileMode(*cfg)
	} else {
		k.Preds = cfg.Preds
	}
	if cfg.IsInstanceRun() {
		k.ScoreThreshold = cfg.scoreThreshold()
		if cfg.Preds != "" {
			if k.PredsSHA256, err = dataset.FileSHA256(cfg.Preds); err != nil {
				return k, &OptionError{Field: "Preds", Err: err}
			}
		}
	}
	return k, nil
}

// trimapsSHA256 fingerprints the samples' trimaps (id, path, sha256), ""
// when none has one.
func trimapsSHA256(samples []dataset.Sample) string {
	h := sha256.New()
	n := 0
	for _, s := range samples {
		if s.Trimap != "" {
			fmt.Fprintf(h, "%s\x00%s\x00%s\n", s.ID, s.Trimap, s.SHA256[s.Trimap])
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrTrimapsChanged is returned (wrapped) by a resume whose dataset's
// trimaps changed since the run began, when the rows kept and those to
// come would score *_unknown against different trimaps.
var ErrTrimapsChanged = errors.New("the dataset's trimaps changed since the run began")

// prepareOut makes the run folder ready and returns the rows of an
// interrupted run when resuming.
//
// A resume keeps the trimaps the run began with. Where it began with none
// and some were added since, it goes on without reading them (noTrimaps,
// and key.Trimaps back to ""), so no *_unknown metric covers only part of
// the images; results.json says so. Where it began with trimaps that have
// changed, it is refused (ErrTrimapsChanged): the old ones are gone.
func prepareOut(cfg *Config, key *runKey) ([]Row, bool, error) {
	if fi, err := os.Lstat(cfg.Out); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, false, &OptionError{Field: "Out", Err: fmt.Errorf("%s is a symbolic link; give the folder it points to", cfg.Out)}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, false, err
	}
	ours := []string{JournalFile, CSVFile, ResultsFile, RunFile, PredsDir, OverlaysDir, DetectionsFile}
	used := false
	for _, n := range ours {
		if _, err := os.Lstat(filepath.Join(cfg.Out, n)); err == nil {
			used = true
		}
	}
	var rows []Row
	var old []byte // the run's key, when resuming
	noTrimaps := false
	if used && cfg.Resume {
		var err error
		if old, err = os.ReadFile(filepath.Join(cfg.Out, RunFile)); err != nil {
			return nil, false, fmt.Errorf("resume: %s has no %s to check the run against: %w", cfg.Out, RunFile, err)
		}
		var was runKey
		if json.Unmarshal(old, &was) == nil && was.Trimaps != key.Trimaps {
			if was.Trimaps != "" {
				return nil, false, &OptionError{Field: "Resume/Force", Err: fmt.Errorf("%s: %w: the rows kept and those to come would score *_unknown against different trimaps", cfg.Out, ErrTrimapsChanged)}
			}
			key.Trimaps, noTrimaps = "", true
		}
	}
	keyJSON, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		return nil, false, err
	}
	keyJSON = append(keyJSON, '\n')
	switch {
	case used && cfg.Resume:
		if string(old) != string(keyJSON) {
			// Resume/Force: resuming is refused, forcing starts over.
			return nil, false, &OptionError{Field: "Resume/Force", Err: fmt.Errorf("the run in %s was %w (%s differs: %s)", cfg.Out, dataset.ErrOtherOptions, RunFile, LineDiff(old, keyJSON, "was %s, now %s", "length"))}
		}
		if rows, err = readJournal(filepath.Join(cfg.Out, JournalFile)); err != nil {
			return nil, false, err
		}
		// Rewrite the journal without a torn last line before appending.
		if err := rewriteJournal(filepath.Join(cfg.Out, JournalFile), rows); err != nil {
			return nil, false, err
		}
		os.Remove(filepath.Join(cfg.Out, ResultsFile))
	case used && !cfg.Force:
		return nil, false, fmt.Errorf("%s: %w", cfg.Out, ErrExists)
	case used:
		for _, n := range ours {
			if err := os.RemoveAll(filepath.Join(cfg.Out, n)); err != nil {
				return nil, false, err
			}
		}
	}
	if err := dataset.WriteFileAtomic(filepath.Join(cfg.Out, RunFile), keyJSON); err != nil {
		return nil, false, err
	}
	for _, d := range []struct {
		on   bool
		name string
	}{{cfg.SavePreds && !cfg.IsInstanceRun(), PredsDir}, {cfg.SaveOverlays, OverlaysDir}} {
		if d.on {
			p := filepath.Join(cfg.Out, d.name)
			if err := dataset.CheckInside(cfg.Out, p); err != nil {
				return nil, false, err
			}
			if err := os.MkdirAll(p, 0o755); err != nil {
				return nil, false, err
			}
		}
	}
	return rows, noTrimaps, nil
}

// rewriteJournal replaces the journal at path with rows.
func rewriteJournal(path string, rows []Row) error {
	var buf []byte
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	return dataset.WriteFileAtomic(path, buf)
}

// LineDiff names the first line where a and b differ, the two trimmed
// lines filled into layout (two %s), or returns prefix when one is a prefix
// of the other line by line.
func LineDiff(a, b []byte, layout, prefix string) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf(layout, strings.TrimSpace(al[i]), strings.TrimSpace(bl[i]))
		}
	}
	return prefix
}

// warmup runs n untimed inference calls on zero input for each batch
// size, through the pool's own batches.
func warmup(st *stages, sizes []int, n int) error {
	if n <= 0 {
		return nil
	}
	for _, items := range sizes {
		if st.sess.Spec.Batch > 0 {
			items = st.sess.Spec.Batch
		}
		b, err := st.pool.Get(items, nil)
		if err != nil {
			return err
		}
		clear(b.In)
		b.Commit()
		for range n {
			if err := st.sess.RunBatch(b); err != nil {
				b.Release()
				return err
			}
		}
		b.Release()
	}
	return nil
}

// tileMode is the tile mode a run records: none untiled (so untiled
// results read as before), else the mode in effect.
func tileMode(cfg Config) string {
	if cfg.Tile == (image.Point{}) {
		return ""
	}
	m, _ := models.ParseTileMode(string(cfg.TileMode))
	return string(m)
}

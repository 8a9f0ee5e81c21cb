package eval

import (
	"errors"
	"fmt"
	"image"
	"runtime"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// Config is one evaluation run: a dataset, and either a model or a folder
// of saved predictions.
type Config struct {
	Dataset string   // canonical dataset folder
	Splits  []string // splits to score, in canonical order; nil = all
	Limit   int      // score at most this many samples (0 = all), for quick looks
	Shard   Shard    // score one of Count disjoint shards (zero = everything)

	// Model is the ONNX file to run; Preds is a folder of <id>.png
	// predictions made elsewhere. Exactly one is set.
	Model   string
	Preds   string
	Spec    models.Spec // resolved against the model (models.Detect)
	Session models.SessionOptions
	Batch   int // items per inference call; 1 when the model's batch is fixed at 1

	// Geometry: how an image becomes model input.
	Fit     models.Fit
	Tile    image.Point // tile size in image pixels; zero = no tiling
	Overlap int         // tile overlap in pixels
	// TileMode says how tiles are used (models.TileMode); "" is
	// models.TileContext.
	TileMode models.TileMode

	Metrics Options // threshold and sweep
	// ScoreThreshold is, for an instance run, the score from which a
	// detection is in the union mask the semantic metrics score; 0 is
	// DefaultScoreThreshold.
	ScoreThreshold float64

	// Temporal filters each clip's predictions in frame order (clip
	// datasets only; see clips.go); the zero Spec is none.
	Temporal temporal.Spec

	Out          string // run folder
	Resume       bool   // continue an interrupted run in Out
	Force        bool   // replace an existing run in Out
	SavePreds    bool   // write preds/<id>.png
	SaveOverlays bool   // write overlays/<id>.jpg
	Warmup       int    // untimed inference calls before the first timed one
	Workers      int    // decode/preprocess and postprocess/metrics goroutines each; <= 0: all cores
	FailFast     bool   // stop at the first per-image error
	MaxPixels    int64  // refuse larger images (dataset.Decoder); 0: dataset.DefaultMaxPixels

	// Version and Commit identify the segtool build in results.json.
	Version, Commit string

	// Progress, when set, is called after each finished image.
	Progress func(done, total int)

	// writeFile writes preds and overlays; nil is dataset.WriteFileAtomic.
	// Tests set it to fail as a full disk would.
	writeFile writeFunc
}

// Shard picks every Count-th sample of the selection, starting at Index:
// disjoint shards that together cover it, for one evaluation split over
// several machines (report merge puts them back together).
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ErrExists reports a run folder that already holds results while
// neither Resume nor Force is set. It is dataset.ErrExists, so callers
// handle an existing output one way.
var ErrExists = dataset.ErrExists

// ErrUnfinished reports a run folder whose run did not finish (killed or
// interrupted); resuming it finishes it.
var ErrUnfinished = errors.New("not a finished eval run")

// ErrNoSamples reports an empty selection (a split with no samples).
var ErrNoSamples = errors.New("no samples to evaluate")

// ErrNothingScored reports a finished run in which no image was scored
// (every one an error, NaN or Inf output, or without ground truth). Run
// still writes results.json and returns the Results with it.
var ErrNothingScored = errors.New("no image was scored")

// Validate checks what can be checked before any work starts.
func (c *Config) Validate() error {
	if (c.Model == "") == (c.Preds == "") {
		return &OptionError{Field: "Model/Preds", Err: errors.New("give exactly one")}
	}
	if c.Dataset == "" {
		return &OptionError{Field: "Dataset", Err: errors.New("is required")}
	}
	if c.Out == "" {
		return &OptionError{Field: "Out", Err: errors.New("is required")}
	}
	if c.Resume && c.Force {
		return &OptionError{Field: "Resume/Force", Err: errors.New("contradict each other")}
	}
	if err := checkSkip(c.Metrics.Skip); err != nil {
		return &OptionError{Field: "Metrics", Err: err}
	}
	if c.Metrics.Threshold <= 0 || c.Metrics.Threshold >= 1 {
		return &OptionError{Field: "Threshold", Err: fmt.Errorf("%g is not in (0, 1)", c.Metrics.Threshold)}
	}
	if err := c.Temporal.Check(); err != nil {
		return &OptionError{Field: "Temporal", Err: err}
	}
	if c.Batch < 1 {
		return &OptionError{Field: "Batch", Err: fmt.Errorf("%d: want at least 1", c.Batch)}
	}
	if c.ScoreThreshold < 0 || c.ScoreThreshold > 1 {
		return &OptionError{Field: "ScoreThreshold", Err: fmt.Errorf("%g is not in [0, 1]", c.ScoreThreshold)}
	}
	if c.IsInstanceRun() {
		if err := c.validateInstances(); err != nil {
			return err
		}
	}
	if c.Model != "" && !c.IsInstanceRun() {
		if c.Spec.Batch > 0 && c.Batch != c.Spec.Batch && c.Spec.Batch != 1 {
			return &OptionError{Field: "Batch", Err: fmt.Errorf("the model's batch dimension is fixed at %d", c.Spec.Batch)}
		}
		if c.Spec.Batch == 1 && c.Batch != 1 {
			return &OptionError{Field: "Batch", Err: errors.New("the model's batch dimension is fixed at 1")}
		}
		if c.Spec.Width <= 0 || c.Spec.Height <= 0 {
			return &OptionError{Field: "Size", Err: models.ErrAnySize}
		}
		if err := c.Spec.CheckBatch(c.Batch); err != nil {
			return err
		}
		if err := c.Session.Check(); err != nil {
			return err
		}
		if c.Tile != (image.Point{}) && c.Tile != image.Pt(c.Spec.Width, c.Spec.Height) {
			return &OptionError{Field: "Tile", Err: fmt.Errorf("tiles are model-sized: the model takes %dx%d, not %dx%d", c.Spec.Width, c.Spec.Height, c.Tile.X, c.Tile.Y)}
		}
		if _, err := models.ParseTileMode(string(c.TileMode)); err != nil {
			return &OptionError{Field: "TileMode", Err: err}
		}
		if c.Tile != (image.Point{}) && (c.Overlap < 0 || c.Overlap*2 >= min(c.Tile.X, c.Tile.Y)) {
			return &OptionError{Field: "Overlap", Err: fmt.Errorf("%d px: want 0 <= overlap < half the tile", c.Overlap)}
		}
	}
	if c.Shard != (Shard{}) && (c.Shard.Count < 1 || c.Shard.Index < 0 || c.Shard.Index >= c.Shard.Count) {
		return &OptionError{Field: "Shard", Err: fmt.Errorf("%d/%d: want i/n with 0 <= i < n", c.Shard.Index, c.Shard.Count)}
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// OptionError names the Config field at fault (see dataset.OptionError);
// the CLI exits 2 on it. Size is the spec's width and height.
type OptionError = dataset.OptionError

// decoder is the guarded decoder of the run's images and labels.
func (c *Config) decoder() dataset.Decoder { return dataset.Decoder{MaxPixels: c.MaxPixels} }

package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/segtool/segtool/dataset"
	"gocv.io/x/gocv"
)

// Outcome is what processing one planned item gave.
type Outcome struct {
	// Rows are new rows, already written through the Writer; the runner
	// journals them as soon as the item finishes.
	Rows []dataset.Sample
	// Kept are rows reused unchanged from a previous run (Resume).
	Kept []dataset.Sample
	// Rejects are the item's reject lines, kept-and-flagged ones included.
	Rejects []dataset.Reject
}

// Tally is what every dataset job reports; each job's summary embeds it.
type Tally struct {
	Out         string
	Samples     int // rows in the manifest
	Reused      int // rows kept from a previous run
	Files       int // sample files written
	Counts      map[string]int
	Rejects     int // reject lines, flagged ones not counted
	Flagged     int // rows kept but flagged
	RejectCodes map[string]int
	Preview     string // path of the contact sheet, if one was written
	Elapsed     time.Duration
}

func newTally(out string) Tally {
	return Tally{Out: out, Counts: map[string]int{}, RejectCodes: map[string]int{}}
}

// RunOptions are the options every dataset job hands to the runner.
type RunOptions struct {
	// Resume keeps rows whose files exist with their recorded sha256;
	// Force replaces an existing output, which stays until the commit;
	// FailFast stops at the first reject.
	Resume, Force, FailFast bool
	Workers                 int // Workers(n): <= 0 means all cores
	// MaxPixels refuses input images larger than this (dataset.Decoder);
	// 0 means dataset.DefaultMaxPixels.
	MaxPixels int64
	// Progress, if set, is called after each item with the number done
	// and the total. It may be called from several goroutines.
	Progress func(done, total int)
}

// Dataset is a job that writes a new canonical dataset at Out.
//
// Run opens a dataset.Writer on Out (staging beside an existing dataset
// under Force, reading the rows of a previous run under Resume), runs one
// item per index on a bounded pool, journals each item's rows as it
// finishes, and commits the manifest, rejects.jsonl and dataset.json
// last. A stopped run (cancelled, a failed write, FailFast) leaves a
// resumable partial dataset, or under Force the old dataset untouched.
type Dataset struct {
	Out string
	RunOptions
	// Options are the output-defining options: Resume only continues a
	// dataset written with the same ones. They are recorded in
	// dataset.json.
	Options map[string]any
	// Info is written to dataset.json at the commit. Name defaults to the
	// base name of Out; Options, Samples and Counts are filled in.
	Info dataset.Info
	// Inputs are the files and folders the job reads: Out may not
	// overlap one.
	Inputs []string
	// Rejects are found before the run (scanning, planning). With
	// FailFastBefore, FailFast stops on them before any item runs;
	// otherwise only an item's own rejects stop it.
	Rejects        []dataset.Reject
	FailFastBefore bool
	// NoRows is returned when no row survives (default: ErrNoRows).
	NoRows error
	// Preview, if set, writes a contact sheet into dir (the folder being
	// written) before the commit, and returns its path relative to dir, or
	// "" when there was nothing to show.
	Preview func(ctx context.Context, dir string, outs []Outcome) (string, error)
}

// ErrNoRows reports a run in which every input was rejected.
var ErrNoRows = errors.New("no sample survived; see rejects.jsonl for the reasons")

// Item processes item i: it writes the item's files through w and
// returns its rows and rejects. Bad input is a reject; only what must stop
// the run (a failed write, cancellation) is an error.
type Item func(ctx context.Context, w *dataset.Writer, i int) (Outcome, error)

// Run runs n items. The Tally and the outcomes, by index, are returned
// even with an error, so the caller can report what was done.
func (d *Dataset) Run(ctx context.Context, n int, item Item) (Tally, []Outcome, error) {
	start := time.Now()
	t := newTally(d.Out)
	outs := make([]Outcome, n)
	w, err := dataset.NewWriter(d.Out, dataset.WriterOptions{
		Force: d.Force, Resume: d.Resume, Options: d.Options, Inputs: d.Inputs,
		Owned: []string{AugmentPreviewFile, CompositePreviewFile, TrimapReportFile},
	})
	if err != nil {
		return t, outs, err
	}
	w.Reject(d.Rejects...)
	all := append([]dataset.Reject(nil), d.Rejects...)
	finish := func(err error) (Tally, []Outcome, error) {
		t.Rejects, t.Flagged = dataset.TallyRejects(all, t.RejectCodes)
		t.Files = w.FilesWritten()
		t.Elapsed = time.Since(start)
		if err != nil {
			w.Abort()
		}
		return t, outs, err
	}
	noRows := d.NoRows
	if noRows == nil {
		noRows = ErrNoRows
	}
	if d.FailFast && d.FailFastBefore {
		if err := FailFast(d.Rejects); err != nil {
			return finish(err)
		}
	}
	if n == 0 {
		return finish(noRows)
	}

	poolErr := Pool(ctx, n, d.Workers, func(ctx context.Context, i int) error {
		o, err := item(ctx, w, i)
		outs[i] = o
		if err == nil && len(o.Rows) > 0 {
			err = w.Add(o.Rows...)
		}
		if err != nil {
			return err
		}
		if d.FailFast {
			return FailFast(o.Rejects)
		}
		return nil
	}, d.Progress)

	// Gathered by index, so rejects.jsonl does not depend on scheduling.
	for _, o := range outs {
		w.Reject(o.Rejects...)
		all = append(all, o.Rejects...)
		for _, s := range o.Kept {
			w.Keep(s)
		}
		t.Reused += len(o.Kept)
	}
	if poolErr != nil {
		if ctx.Err() != nil {
			poolErr = Interrupted(ctx.Err())
		}
		return finish(poolErr)
	}
	rows := w.Rows()
	t.Samples = len(rows)
	for _, s := range rows {
		t.Counts[s.Split]++
	}
	if len(rows) == 0 {
		return finish(noRows)
	}
	if d.Preview != nil {
		p, err := d.Preview(ctx, w.Dir(), outs)
		if err != nil {
			return finish(err)
		}
		if p != "" {
			t.Preview = filepath.Join(d.Out, p)
		}
	}
	info := d.Info
	if info.Name == "" {
		info.Name = filepath.Base(filepath.Clean(d.Out))
	}
	info.Options = d.Options
	if err := w.Commit(info); err != nil {
		return finish(err)
	}
	t.Rejects, t.Flagged = dataset.TallyRejects(all, t.RejectCodes)
	t.Files = w.FilesWritten()
	t.Elapsed = time.Since(start)
	return t, outs, nil
}

// Update is a job that updates the rows of an existing dataset in place
// (trimap): each item may replace its row and add reject lines. The
// manifest is rewritten at the end, atomically and only where its bytes
// change, even after an error, since every finished row matches its
// files; new reject lines are appended to rejects.jsonl.
type Update struct {
	Dir      string
	Workers  int // Workers(n): <= 0 means all cores
	FailFast bool
	// Progress, if set, is called after each item with the number done
	// and the total. It may be called from several goroutines.
	Progress func(done, total int)
}

// UpdateTally is what an Update did besides the common Tally.
type UpdateTally struct {
	Tally
	Done            int  // items finished
	ManifestChanged bool // manifest.jsonl's bytes changed
	NewRejectLines  int  // lines added to rejects.jsonl
}

// UpdateItem processes row i of rows. A row to replace it goes in
// Outcome.Rows (at most one); bad input is a reject.
type UpdateItem func(ctx context.Context, i int) (Outcome, error)

// Run runs one item per row of rows, which it updates in place through w
// (opened, and locked, before the rows were read: dataset.OpenUpdate).
func (u *Update) Run(ctx context.Context, w *dataset.Updater, rows []dataset.Sample, item UpdateItem) (UpdateTally, []Outcome, error) {
	start := time.Now()
	t := UpdateTally{Tally: newTally(u.Dir)}
	outs := make([]Outcome, len(rows))
	done := make([]bool, len(rows))
	loopErr := Pool(ctx, len(rows), u.Workers, func(ctx context.Context, i int) error {
		o, err := item(ctx, i)
		if err != nil {
			return err
		}
		outs[i], done[i] = o, true
		if u.FailFast {
			return FailFast(o.Rejects)
		}
		return nil
	}, u.Progress)

	var all []dataset.Reject
	for i, o := range outs {
		if !done[i] {
			continue
		}
		t.Done++
		if len(o.Rows) > 0 {
			rows[i] = o.Rows[0]
		}
		all = append(all, o.Rejects...)
	}
	t.Rejects, t.Flagged = dataset.TallyRejects(all, t.RejectCodes)
	t.Samples = len(rows)
	for _, s := range rows {
		t.Counts[s.Split]++
	}
	changed, added, saveErr := w.Commit(rows, all)
	t.ManifestChanged, t.NewRejectLines = changed, added
	t.Elapsed = time.Since(start)
	if saveErr != nil {
		return t, outs, errors.Join(loopErr, saveErr)
	}
	if loopErr != nil && ctx.Err() != nil && errors.Is(loopErr, ctx.Err()) {
		// Not ErrInterrupted: an update needs no resume flag, a rerun
		// skips the rows it finished.
		return t, outs, fmt.Errorf("interrupted after %d of %d samples (those are saved; rerun to finish): %w", t.Done, len(rows), ctx.Err())
	}
	return t, outs, loopErr
}

// writePreview encodes a job's contact sheet as PNG and writes it to path
// (creating its folder), only where its bytes change, so a resumed run
// that draws the same sheet leaves the file alone.
func writePreview(path string, sheet gocv.Mat) error {
	buf, err := gocv.IMEncode(gocv.PNGFileExt, sheet)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	defer buf.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if _, err := dataset.WriteFileIfChanged(path, buf.GetBytes()); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}

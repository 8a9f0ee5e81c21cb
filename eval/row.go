package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/segtool/segtool/dataset"
)

// Row statuses.
const (
	StatusOK        = "ok"        // scored
	StatusError     = "error"     // could not be scored: unreadable image, missing or wrong-sized prediction
	StatusSkipped   = "skipped"   // no ground truth
	StatusNonFinite = "nonfinite" // the model gave NaN or Inf; counted, never averaged in
)

// Row is one image's result: a line of per_image.jsonl, and of
// per_image.csv.
type Row struct {
	ID        string       `json:"id"`
	Split     string       `json:"split"`
	Clip      string       `json:"clip,omitempty"`  // a clip dataset's clip
	Frame     *int         `json:"frame,omitempty"` // and frame index
	Status    string       `json:"status"`
	Reason    string       `json:"reason,omitempty"`
	Path      string       `json:"path,omitempty"` // the file the reason is about
	Width     int          `json:"width,omitempty"`
	Height    int          `json:"height,omitempty"`
	Tiles     int          `json:"tiles,omitempty"`
	NonFinite int          `json:"nonfinite,omitempty"` // NaN or Inf output values
	Score     *ImageScores `json:"score,omitempty"`
	// Instances is an instance run's record of the image (instances.go).
	Instances *InstanceRecord `json:"instances,omitempty"`
	MS        Times           `json:"ms"`
}

// Times are one image's stage times in milliseconds. Inference is the
// image's share of its batch call: the call's time times the image's share
// of the batch's items. Total runs from the start of decoding to the end of
// the metrics, queueing between stages included.
type Times struct {
	Decode     float64 `json:"decode"`
	Preprocess float64 `json:"preprocess"`
	// Batch is the image's share of copying its batch into the input
	// tensor (and converting it, for a float16 input).
	Batch       float64 `json:"batch,omitempty"`
	Inference   float64 `json:"inference"`
	Postprocess float64 `json:"postprocess"`
	Metrics     float64 `json:"metrics"`
	Total       float64 `json:"total"`
}

// readJournal reads the rows of an interrupted run. A last line cut short
// by a kill is dropped (its image is redone); any other bad line is an
// error, since it means the file is not ours.
func readJournal(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows []Row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if line == bytes.Count(b, []byte("\n"))+1 { // the unterminated tail
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// schedule is a run's rows in selection order: those an interrupted run
// finished (resumed of them) in place, and the indexes of the samples
// still to do, with the journal new rows are appended to.
type schedule struct {
	samples []dataset.Sample
	rows    []*Row
	pos     map[string]int
	resumed int
	todo    []int
	journal *os.File
}

// openSchedule schedules samples around the rows done and opens the run
// folder's journal for appending; close releases it.
func openSchedule(out string, samples []dataset.Sample, done []Row) (*schedule, error) {
	sc := newSchedule(samples, done)
	jf, err := os.OpenFile(filepath.Join(out, JournalFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	sc.journal = jf
	return sc, nil
}

// close closes the journal if finish has not; it is safe to call after it.
func (sc *schedule) close() {
	if sc.journal != nil {
		sc.journal.Close()
		sc.journal = nil
	}
}

func newSchedule(samples []dataset.Sample, done []Row) *schedule {
	sc := &schedule{samples: samples, rows: make([]*Row, len(samples)), pos: map[string]int{}}
	for i, s := range samples {
		sc.pos[s.ID] = i
	}
	for i := range done {
		if k, ok := sc.pos[done[i].ID]; ok && sc.rows[k] == nil {
			sc.rows[k] = &done[i]
			sc.resumed++
		}
	}
	for i := range samples {
		if sc.rows[i] == nil {
			sc.todo = append(sc.todo, i)
		}
	}
	return sc
}

// emitter reports the resumed rows as progress and returns the function
// that takes each finished row: it appends the row to the journal, puts
// it in place, reports progress and, under FailFast, stops at an error
// row with dataset.ErrFailFast.
func (sc *schedule) emitter(cfg *Config) func(Row) error {
	finished := sc.resumed
	if cfg.Progress != nil {
		cfg.Progress(finished, len(sc.samples))
	}
	return func(r Row) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := sc.journal.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		sc.rows[sc.pos[r.ID]] = &r
		finished++
		if cfg.Progress != nil {
			cfg.Progress(finished, len(sc.samples))
		}
		if cfg.FailFast && r.Status == StatusError {
			return fmt.Errorf("%w: %s (%s): %s", dataset.ErrFailFast, r.ID, r.Path, r.Reason)
		}
		return nil
	}
}

// feed sends items in order on the channel it returns, and closes it when
// they run out or ctx is done: the first stage of eval's pipelines.
func feed[T any](ctx context.Context, items []T) <-chan T {
	ch := make(chan T)
	go func() {
		defer close(ch)
		for _, it := range items {
			select {
			case ch <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// collect hands each row from rows to emit until rows is closed. A
// failure inside the run (a failed write of another image's output) stops
// new work but not the journal: the rows finished around it were scored
// and written, so they are journalled and a resume skips them. The
// caller's cancel stops the journal at once, as a kill would; so does a
// failed emit (the journal itself, or FailFast). The rest are drained.
func collect(caller context.Context, rows <-chan Row, emit func(Row) error, cancel context.CancelCauseFunc) {
	stopped := false
	for r := range rows {
		if stopped || caller.Err() != nil {
			continue
		}
		if err := emit(r); err != nil {
			stopped = true
			cancel(err)
		}
	}
}

// finish closes the run's journal and returns every row, resumed and new,
// in selection order.
func (sc *schedule) finish() ([]Row, error) {
	err := sc.journal.Close()
	sc.journal = nil
	if err != nil {
		return nil, err
	}
	all := make([]Row, len(sc.rows))
	for i, r := range sc.rows {
		all[i] = *r
	}
	return all, nil
}

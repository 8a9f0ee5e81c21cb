package dataset

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// RunPool calls do(ctx, i) for every i in [0, n) on a bounded pool of
// workers goroutines, and returns once all calls have finished. The first
// error from do stops the pool: items not yet started are skipped, the ctx
// passed to running calls is cancelled, and RunPool returns that error. A
// cancelled parent ctx stops it the same way and RunPool returns the
// parent's error. progress, if set, is called after each finished call.
//
// Callers keep results by index, so what they write does not depend on
// which worker ran which item.
func RunPool(ctx context.Context, n, workers int, do func(ctx context.Context, i int) error, progress func(done, total int)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					continue // handed out as the pool stopped
				}
				if err := do(ctx, i); err != nil {
					cancel(err) // only the first cause is kept
				}
				if progress != nil {
					progress(int(done.Add(1)), n)
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return context.Cause(ctx)
}

// FailFast returns the error --fail-fast stops on: the first of rs that was
// rejected rather than kept and flagged, or nil.
func FailFast(rs []Reject) error {
	for _, r := range rs {
		if !r.Kept {
			return fmt.Errorf("--fail-fast: %s: %s", strings.Join(r.Source, ", "), r.Reason)
		}
	}
	return nil
}

// Interrupted wraps the error of a run stopped by its caller's context.
func Interrupted(err error) error {
	return fmt.Errorf("interrupted; rerun with --resume to continue: %w", err)
}

// OptionError is a fault in a command's options rather than in a sample:
// a source that does not exist, an unknown split, a bad spec. Option names
// the command-line flag at fault, so the CLI can exit 2 naming it.
type OptionError struct {
	Option string // e.g. "--splits"
	Err    error
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/segtool/segtool/dataset"
)

// Workers is the pool size every job uses: n, or all cores when n <= 0.
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Pool calls do(ctx, i) for every i in [0, n) on a bounded pool of
// Workers(workers) goroutines, and returns once all calls have finished.
// The first error from do stops the pool: items not yet started are
// skipped, the ctx passed to running calls is cancelled, and Pool returns
// that error. A cancelled parent ctx stops it the same way and Pool
// returns the parent's error. progress, if set, is called after each
// finished call, one call at a time and with done counting up, so it
// needs no lock of its own.
//
// Callers keep results by index, so what they write does not depend on
// which worker ran which item.
func Pool(ctx context.Context, n, workers int, do func(ctx context.Context, i int) error, progress func(done, total int)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises progress
	done := 0
	for range Workers(workers) {
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
					mu.Lock()
					done++
					progress(done, n)
					mu.Unlock()
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

// FailFast returns the error a FailFast run stops on: the first of rs that
// was rejected rather than kept and flagged, or nil. It wraps dataset.ErrFailFast.
func FailFast(rs []dataset.Reject) error {
	for _, r := range rs {
		if !r.Kept {
			return fmt.Errorf("%w: %s: %s", dataset.ErrFailFast, strings.Join(r.Source, ", "), r.Reason)
		}
	}
	return nil
}

// ErrInterrupted marks a run stopped by its caller's context; the rows
// finished so far are kept for a resumed run.
var ErrInterrupted = errors.New("interrupted")

// Interrupted wraps the error of a run stopped by its caller's context.
func Interrupted(err error) error {
	return fmt.Errorf("%w: %w", ErrInterrupted, err)
}

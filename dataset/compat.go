package dataset

// TEMPORARY during the move to package jobs; removed before landing.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

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
					continue
				}
				if err := do(ctx, i); err != nil {
					cancel(err)
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

func FailFast(rs []Reject) error {
	for _, r := range rs {
		if !r.Kept {
			return fmt.Errorf("--fail-fast: %s: %s", strings.Join(r.Source, ", "), r.Reason)
		}
	}
	return nil
}

func Interrupted(err error) error {
	return fmt.Errorf("interrupted; rerun with --resume to continue: %w", err)
}

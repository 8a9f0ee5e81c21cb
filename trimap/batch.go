package trimap

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls fn(ctx, i) for every i in [0, n) from up to workers
// goroutines (0 means runtime.GOMAXPROCS(0)): the parallelism across
// images. It stops handing out indices at the first error or when ctx is
// done, waits for the calls in flight, and returns the error of the
// lowest index that failed, or ctx's error. When images run in parallel,
// a single worker per image (SLICOptions.Workers = 1) is usually fastest.
func ForEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	var (
		next    atomic.Int64
		mu      sync.Mutex
		firstI  = n
		firstE  error
		stopped atomic.Bool // an error or ctx stopped the loop
		ctxDone atomic.Bool // ctx stopped it
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for !stopped.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if ctx.Err() != nil {
					ctxDone.Store(true)
					stopped.Store(true)
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if i < firstI {
						firstI, firstE = i, err
					}
					mu.Unlock()
					stopped.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if firstE != nil {
		return firstE
	}
	if ctxDone.Load() {
		return ctx.Err()
	}
	return nil
}

package trimap

import (
	"context"
	"fmt"
	"time"
)

// SLICTiming is what [TimeSLIC] measured.
type SLICTiming struct {
	W, H        int
	Runs        int
	Workers     int // as given (0: all cores)
	Total       time.Duration
	Superpixels int // labels of the last run
}

// MsPerMegapixel is the mean time of one run per million pixels.
func (t SLICTiming) MsPerMegapixel() float64 {
	if t.Runs == 0 {
		return 0
	}
	return 1000 * t.Total.Seconds() / float64(t.Runs) / (float64(t.W*t.H) / 1e6)
}

// TimeSLIC runs [SLIC] on im once untimed, then n times timed, with
// opt (opt.Workers decides the goroutines within the image). It is the
// measurement of `segtool bench slic`.
func TimeSLIC(ctx context.Context, im Image, opt SLICOptions, n int) (SLICTiming, error) {
	t := SLICTiming{W: im.W, H: im.H, Workers: opt.Workers}
	if n < 1 {
		return t, fmt.Errorf("%w: %d runs", ErrBadInput, n)
	}
	if _, err := SLIC(ctx, im, opt); err != nil {
		return t, err
	}
	start := time.Now()
	for range n {
		sp, err := SLIC(ctx, im, opt)
		if err != nil {
			return t, err
		}
		t.Superpixels = sp.N
		t.Runs++
	}
	t.Total = time.Since(start)
	return t, nil
}

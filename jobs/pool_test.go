package jobs

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/segtool/segtool/dataset"
)

func TestPool(t *testing.T) {
	var seen [100]atomic.Int32
	var dones []int // progress takes no lock: Pool calls it one at a time
	err := Pool(context.Background(), 100, 3, func(_ context.Context, i int) error {
		seen[i].Add(1)
		return nil
	}, func(done, total int) {
		if total != 100 {
			t.Errorf("progress total %d, want 100", total)
		}
		dones = append(dones, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("item %d ran %d times", i, n)
		}
	}
	for i, d := range dones {
		if d != i+1 {
			t.Fatalf("progress reported %v, want 1 to 100 in order", dones)
		}
	}
	if len(dones) != 100 {
		t.Errorf("progress called %d times, want 100", len(dones))
	}

	boom := errors.New("boom")
	var ran atomic.Int32
	err = Pool(context.Background(), 1000, 1, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 5 {
			return boom
		}
		return nil
	}, nil)
	if !errors.Is(err, boom) || ran.Load() != 6 {
		t.Errorf("error stops the pool: err %v after %d calls, want boom after 6", err, ran.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	err = Pool(ctx, 1000, 2, func(ctx context.Context, i int) error {
		if i == 10 {
			cancel()
		}
		return ctx.Err()
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled parent: %v", err)
	}
	if FailFast([]dataset.Reject{{Kept: true}}) != nil || FailFast([]dataset.Reject{{Kept: true}, {Source: []string{"a.jpg"}, Reason: "bad"}}) == nil {
		t.Error("FailFast ignores kept rejects and stops on the first real one")
	}
}

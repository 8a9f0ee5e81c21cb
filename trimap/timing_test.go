package trimap

import (
	"context"
	"testing"
)

func TestTimeSLIC(t *testing.T) {
	im := syntheticImage(50, 40, 3)
	for _, workers := range []int{1, 0} {
		tm, err := TimeSLIC(context.Background(), im, SLICOptions{Superpixels: 20, Workers: workers}, 2)
		if err != nil || tm.Runs != 2 || tm.Superpixels == 0 || tm.MsPerMegapixel() <= 0 {
			t.Errorf("workers %d: %+v, %v", workers, tm, err)
		}
	}
	if _, err := TimeSLIC(context.Background(), im, SLICOptions{}, 0); err == nil {
		t.Error("0 runs accepted")
	}
}

package report

import (
	"math"
	"testing"
)

// TestSignTest checks the exact two-sided sign test against binomial sums
// worked by hand: P(X <= k) for X ~ Binomial(n, 1/2) is Σ_{i<=k} C(n, i) / 2^n.
func TestSignTest(t *testing.T) {
	for _, tc := range []struct {
		better, worse int
		want          float64
	}{
		{9, 1, 2 * (1 + 10) / 1024.0},                                 // n=10, k=1: 0.021484375
		{1, 9, 2 * (1 + 10) / 1024.0},                                 // symmetric
		{5, 15, 2 * (1 + 20 + 190 + 1140 + 4845 + 15504) / 1048576.0}, // n=20, k=5: 0.041389...
		{6, 0, 2 / 64.0},                                              // all six one way: 0.03125
		{5, 0, 2 / 32.0},                                              // five: 0.0625, not significant
		{3, 3, 1},
		{0, 0, 1},
		{4, 5, 1}, // 2·P(X<=4) for n=9 is 2·256/512 = 1
	} {
		if got := SignTest(tc.better, tc.worse); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("SignTest(%d, %d) = %v, want %v", tc.better, tc.worse, got, tc.want)
		}
	}
	// Large n stays exact enough to compare with the normal approximation:
	// n = 1000, k = 450: z = (450.5 - 500)/√250 = -3.13, two-sided 0.00175.
	if p := SignTest(550, 450); math.Abs(p-0.00175) > 0.0001 {
		t.Errorf("SignTest(550, 450) = %v, want about 0.00175", p)
	}
}

func TestNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{{0.5, 5}, {0.9, 9}, {0.99, 10}, {0.01, 1}} {
		if got := nearestRank(s, tc.p); got != tc.want {
			t.Errorf("nearestRank(1..10, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestQuantileCIMean(t *testing.T) {
	// 1..5: mean 3, s = √2.5, se = √0.5.
	lo, hi := quantileCI([]float64{1, 2, 3, 4, 5}, 0)
	h := z95 * math.Sqrt(0.5)
	if math.Abs(lo-(3-h)) > 1e-12 || math.Abs(hi-(3+h)) > 1e-12 {
		t.Errorf("mean interval [%v, %v], want 3 ± %v", lo, hi, h)
	}
}

package report

import (
	"math"
	"math/big"
	"slices"
)

// nearestRank is the p-quantile of sorted xs by the nearest-rank method,
// x[ceil(p*n)], the percentile eval reports (eval.latency).
func nearestRank(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p*float64(n)-1e-9)) - 1
	return sorted[min(max(k, 0), n-1)]
}

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// minTimed is the fewest timed images that make a noise interval.
const minTimed = 5

// quantileCI is a distribution-free 95% confidence interval for the
// p-quantile of the population that sorted xs were drawn from: the order
// statistics x(l) and x(u) with l = floor(np - z sqrt(np(1-p))) and
// u = ceil(np + z sqrt(np(1-p))) (1-based, clamped to 1..n), the normal
// approximation to the binomial count of values below the quantile
// (Conover, Practical Nonparametric Statistics, 3rd ed. 1999, §3.2,
// "confidence interval for a quantile"). For the mean (p = 0) it is
// mean ± z·s/√n.
func quantileCI(sorted []float64, p float64) (lo, hi float64) {
	n := float64(len(sorted))
	if p == 0 {
		var sum, sq float64
		for _, x := range sorted {
			sum += x
		}
		mean := sum / n
		for _, x := range sorted {
			sq += (x - mean) * (x - mean)
		}
		se := math.Sqrt(sq/(n-1)) / math.Sqrt(n)
		return mean - z95*se, mean + z95*se
	}
	h := z95 * math.Sqrt(n*p*(1-p))
	l := int(math.Floor(n*p - h))
	u := int(math.Ceil(n*p + h))
	l = min(max(l, 1), len(sorted))
	u = min(max(u, 1), len(sorted))
	return sorted[l-1], sorted[u-1]
}

// SignTest is the exact two-sided sign test (Dixon and Mood, "The
// statistical sign test", JASA 41(236), 1946; Conover 1999 §3.4): with
// better and worse pairs (ties dropped), the probability under
// Binomial(n, 1/2), n = better + worse, of a split at least as uneven as
// the one seen: min(1, 2·P(X <= min(better, worse))). The binomial sum is
// computed exactly in integers. n = 0 gives 1.
func SignTest(better, worse int) float64 {
	n := better + worse
	k := min(better, worse)
	if n == 0 {
		return 1
	}
	if better == worse {
		return 1
	}
	// Σ_{i<=k} C(n, i), exactly.
	sum := new(big.Int)
	c := big.NewInt(1)
	for i := 0; i <= k; i++ {
		sum.Add(sum, c)
		c.Mul(c, big.NewInt(int64(n-i)))
		c.Quo(c, big.NewInt(int64(i+1)))
	}
	num := new(big.Int).Lsh(sum, 1) // two-sided
	den := new(big.Int).Lsh(big.NewInt(1), uint(n))
	p, _ := new(big.Rat).SetFrac(num, den).Float64()
	return math.Min(1, p)
}

// sortedCopy returns xs sorted ascending.
func sortedCopy(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

package augment

import (
	"math/rand/v2"
)

// Combinators choose which child ops run. Their records are the records of
// the children that ran, in the order they ran.

type sequential struct {
	ops         []Op
	randomOrder float64
}

// newSequential: sequential runs ops in order (imgaug Sequential).
// random_order: shuffle them per application (true, false or a chance;
// default false).
func newSequential(a *Args) (Op, error) {
	ro, err := a.Chance("random_order", 0)
	if err != nil {
		return nil, err
	}
	ops, err := a.Ops("ops")
	return &sequential{ops: ops, randomOrder: ro}, err
}

// newSometimes: sometimes runs ops in order with probability p (default
// 0.5; imgaug Sometimes).
func newSometimes(a *Args) (Op, error) {
	p, err := a.Prob("p", 0.5)
	if err != nil {
		return nil, err
	}
	ops, err := a.Ops("ops")
	if err != nil {
		return nil, err
	}
	return maybe(&sequential{ops: ops}, p), nil
}

func (o *sequential) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	order := identity(len(o.ops))
	if chance(rng, o.randomOrder) {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return runOps(o.ops, order, s, rng, log)
}

type oneOf struct{ ops []Op }

// newOneOf: one_of runs one of ops, chosen uniformly (imgaug OneOf).
func newOneOf(a *Args) (Op, error) {
	ops, err := a.Ops("ops")
	return &oneOf{ops}, err
}

func (o *oneOf) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	return o.ops[rng.IntN(len(o.ops))].Apply(s, rng, log)
}

type someOf struct {
	n           Param
	ops         []Op
	randomOrder float64
}

// newSomeOf: some_of runs n distinct ops chosen at random, in their listed
// order unless random_order (imgaug SomeOf). n: how many, capped at the
// number of ops (default [1, number of ops]).
func newSomeOf(a *Args) (Op, error) {
	ops, err := a.Ops("ops")
	if err != nil {
		return nil, err
	}
	n, err := a.Int("n", Uniform(1, float64(len(ops))), 0, 1e6)
	if err != nil {
		return nil, err
	}
	ro, err := a.Chance("random_order", 0)
	return &someOf{n: n, ops: ops, randomOrder: ro}, err
}

func (o *someOf) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	n := min(o.n.DrawInt(rng), len(o.ops))
	pick := rng.Perm(len(o.ops))[:n]
	if !chance(rng, o.randomOrder) {
		// Listed order: mark the picks, then walk the list.
		chosen := make([]bool, len(o.ops))
		for _, i := range pick {
			chosen[i] = true
		}
		pick = pick[:0]
		for i, c := range chosen {
			if c {
				pick = append(pick, i)
			}
		}
	}
	return runOps(o.ops, pick, s, rng, log)
}

func runOps(ops []Op, order []int, s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	var err error
	for _, i := range order {
		if log, err = ops[i].Apply(s, rng, log); err != nil {
			return log, err
		}
	}
	return log, nil
}

func identity(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

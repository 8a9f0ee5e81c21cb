package composite

import (
	"errors"
	"fmt"
)

// ErrTooFewBackgrounds: Options.PerFg exceeds the number of backgrounds and
// AllowRepeat is off. It concerns the whole plan, not one input.
var ErrTooFewBackgrounds = errors.New("more backgrounds per foreground than backgrounds (allow repeats or lower the count)")

// Planned is one planned composite: indices into the foreground and
// background lists given to Plan.
type Planned struct {
	Fg     int `json:"fg"`
	Bg     int `json:"bg"`
	Second int `json:"second"` // second foreground, or -1
	Index  int `json:"index"`  // composite number for this foreground, 0..PerFg-1
}

// Plan draws Options.PerFg backgrounds for each foreground, all different
// unless there are too few and AllowRepeat is set (then every background is
// used once before any is used again); procedural backgrounds differ on
// every use, so a list of only those never runs short. With probability
// Options.Multi an item gets a second foreground, another one when there
// is another. fgIDs must be the Foreground IDs that Composite will see.
func Plan(fgIDs, bgIDs []string, o Options) ([]Planned, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if len(fgIDs) == 0 || len(bgIDs) == 0 {
		return nil, fmt.Errorf("plan: %d foregrounds, %d backgrounds: need at least one of each", len(fgIDs), len(bgIDs))
	}
	seen := make(map[string]bool, len(fgIDs))
	for _, id := range fgIDs {
		if seen[id] {
			return nil, fmt.Errorf("plan: foreground id %q given twice: its composites would be identical", id)
		}
		seen[id] = true
	}
	per := max(1, o.PerFg)
	procedural := true
	for _, id := range bgIDs {
		procedural = procedural && IsProcedural(id)
	}
	if per > len(bgIDs) && !o.AllowRepeat && !procedural {
		return nil, fmt.Errorf("plan: %w: %d per foreground, %d backgrounds", ErrTooFewBackgrounds, per, len(bgIDs))
	}
	items := make([]Planned, 0, len(fgIDs)*per)
	for i, id := range fgIDs {
		r := newStream(o.Seed, id, 0, "plan")
		var order []int
		for len(order) < per {
			order = sample(r, len(bgIDs), min(per-len(order), len(bgIDs)), order)
		}
		for k := 0; k < per; k++ {
			it := Planned{Fg: i, Bg: order[k], Second: -1, Index: k}
			m := newStream(o.Seed, id, k, "multi")
			if u, j := m.float(), m.intn(max(1, len(fgIDs)-1)); u < o.Multi {
				it.Second = i // the only one
				if len(fgIDs) > 1 {
					it.Second = j
					if j >= i {
						it.Second++
					}
				}
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// sample appends k distinct values from [0, n) to dst: a Fisher–Yates
// shuffle stopped after k steps, with the swaps kept in a map so the cost
// is O(k) however many backgrounds there are.
func sample(r *stream, n, k int, dst []int) []int {
	swaps := make(map[int]int, k)
	at := func(i int) int {
		if v, ok := swaps[i]; ok {
			return v
		}
		return i
	}
	for i := 0; i < k; i++ {
		j := i + r.intn(n-i)
		vi, vj := at(i), at(j)
		swaps[i], swaps[j] = vj, vi
		dst = append(dst, vj)
	}
	return dst
}

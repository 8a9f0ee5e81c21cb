//go:build matprofile

// Package matleak checks, in tests built with gocv's matprofile tag, that
// code closed every gocv.Mat it opened: a gocv.Mat is C memory the Go GC
// does not see, so a leak shows only in gocv.MatProfile.
package matleak

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// Checker compares gocv's live-Mat count with the count at its last
// baseline.
type Checker struct {
	tb   testing.TB
	base int
}

// Start returns a checker whose baseline is the Mats live now (fixtures
// the test opened on purpose, for example).
func Start(tb testing.TB) *Checker {
	return &Checker{tb: tb, base: gocv.MatProfile.Count()}
}

// Check reports an error naming step when Mats opened since the baseline
// are still live, with their creation stacks, and takes the new count as
// the baseline, so that each step's leaks are reported once.
func (c *Checker) Check(step string) {
	c.tb.Helper()
	if n := gocv.MatProfile.Count(); n != c.base {
		var buf bytes.Buffer
		gocv.MatProfile.WriteTo(&buf, 1)
		c.tb.Errorf("%s: %d Mats live, %d before (%+d leaked); live Mats by creation stack:\n%s", step, n, c.base, n-c.base, buf.String())
		c.base = n
	}
}

// Reset takes the Mats live now as the baseline.
func (c *Checker) Reset() { c.base = gocv.MatProfile.Count() }

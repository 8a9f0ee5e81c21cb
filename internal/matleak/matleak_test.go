//go:build matprofile

package matleak

import (
	"fmt"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// recorder keeps what Check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestMatProfileChecker(t *testing.T) {
	r := &recorder{TB: t}
	c := Start(r)
	m := gocv.NewMat()
	c.Check("open")
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "open: ") || !strings.Contains(r.errs[0], "(+1 leaked)") {
		t.Fatalf("a live Mat reported as %q, want one error naming the step and +1", r.errs)
	}
	c.Check("again") // reported once, not at every later step
	m.Close()
	c.Reset()
	c.Check("closed")
	if len(r.errs) != 1 {
		t.Errorf("after Close and Reset: %q, want no further error", r.errs[1:])
	}
}

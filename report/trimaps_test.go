package report

import (
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
)

// TestTrimapNotes: a note only when both runs have *_unknown values and
// their trimaps differ.
func TestTrimapNotes(t *testing.T) {
	v := 0.1
	run := func(name, trimaps string, unknown bool) *Run {
		r := &Run{Name: name}
		r.Results.Dataset.TrimapsSHA256 = trimaps
		r.Results.Metrics = []eval.MetricSummary{{Name: "mad", Group: eval.GroupMatting, Mean: &v}}
		if unknown {
			r.Results.Metrics = append(r.Results.Metrics, eval.MetricSummary{Name: "mad_unknown", Group: eval.GroupMattingUnknown, Mean: &v})
		}
		return r
	}
	for _, c := range []struct {
		name string
		a, b *Run
		want int
	}{
		{"other trimaps", run("a", "1111", true), run("b", "2222", true), 1},
		{"same trimaps", run("a", "1111", true), run("b", "1111", true), 0},
		{"one without *_unknown", run("a", "1111", true), run("b", "", false), 0},
	} {
		got := TrimapNotes(c.a, c.b)
		if len(got) != c.want {
			t.Errorf("%s: notes %q, want %d", c.name, got, c.want)
		}
		if c.want == 1 && !strings.Contains(got[0], "different trimaps") {
			t.Errorf("%s: note %q", c.name, got[0])
		}
	}
}

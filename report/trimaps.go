package report

import (
	"fmt"

	"github.com/segtool/segtool/eval"
)

// TrimapNotes says when run and base both have *_unknown matting metrics
// scored against different trimaps (results.json's dataset
// trimaps_sha256): the dataset identity leaves trimaps out, so such runs
// are comparable on everything else, but their *_unknown values differ by
// the trimaps as well as by the predictions.
func TrimapNotes(run, base *Run) []string {
	a, b := run.Results.Dataset.TrimapsSHA256, base.Results.Dataset.TrimapsSHA256
	if a == b || !hasUnknown(run) || !hasUnknown(base) {
		return nil
	}
	return []string{fmt.Sprintf("the *_unknown metrics of %s and %s were scored against different trimaps (trimaps sha256 %s vs %s): their differences are the trimaps' as well as the models'", run.Name, base.Name, short(a), short(b))}
}

// hasUnknown reports whether r has a value of a metric over the trimap's
// unknown region.
func hasUnknown(r *Run) bool {
	for _, m := range r.Results.Metrics {
		if m.Group == eval.GroupMattingUnknown && (m.Mean != nil || m.Accumulated != nil) {
			return true
		}
	}
	return false
}

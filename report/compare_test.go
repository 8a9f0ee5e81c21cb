package report

import (
	"math"
	"testing"
)

// TestCompare: "old" predictions are the "new" ones eroded 2 px more, so
// every image's Dice is better in new: 6 of 6 better, and the sign test
// gives 2·(1/2)^6 = 0.03125.
func TestCompare(t *testing.T) {
	newDir, oldDir := reportFixture(t)
	c, err := Compare(mustLoad(t, oldDir), mustLoad(t, newDir), "dice", 3)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Paired
	if p == nil || p.N != 6 || p.Better != 6 || p.Worse != 0 || p.Tied != 0 || p.P != 0.03125 {
		t.Fatalf("paired %+v, want 6 of 6 better, p = 0.03125", p)
	}
	if len(p.Improved) != 3 || len(p.Regressed) != 0 || p.Improved[0].Delta < p.Improved[2].Delta || p.MeanDelta <= 0 {
		t.Errorf("improved %+v regressed %+v mean %v", p.Improved, p.Regressed, p.MeanDelta)
	}
	rows := map[string]CompareRow{}
	for _, r := range c.Rows {
		rows[r.Name] = r
	}
	d := rows["dice"]
	if d.A == nil || d.B == nil || d.Delta == nil || math.Abs(*d.Delta-(*d.B-*d.A)) > 0 || d.Better != 1 {
		t.Errorf("dice row %+v", d)
	}
	if m := rows["mad"]; m.Better != 1 || *m.Delta >= 0 {
		t.Errorf("mad row %+v: lower is better, new has less error", m)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v", c.Warnings)
	}
	// Against itself: every image tied, p = 1.
	c, err = Compare(mustLoad(t, newDir), mustLoad(t, newDir), "dice", 3)
	if err != nil || c.Paired.Tied != 6 || c.Paired.P != 1 || c.Paired.Verdict() != "no image changed its dice" {
		t.Errorf("self-compare %+v %v", c.Paired, err)
	}
}

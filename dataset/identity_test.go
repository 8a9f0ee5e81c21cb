package dataset

import (
	"encoding/json"
	"testing"
)

// TestIdentitySHA256: a trimap column, notes and extra leave the identity
// alone; a changed mask hash, split or id changes it.
func TestIdentitySHA256(t *testing.T) {
	base := func() []Sample {
		return []Sample{{ID: "a", Split: "test", Image: "images/a.jpg", Mask: "masks/a.png", Width: 4, Height: 5,
			SHA256: map[string]string{"images/a.jpg": "11", "masks/a.png": "22"}}}
	}
	want := IdentitySHA256(base())
	added := base()
	added[0].Trimap = "trimaps/a.png"
	added[0].SHA256["trimaps/a.png"] = "33"
	added[0].Notes = []string{"n"}
	added[0].Extra = map[string]json.RawMessage{"trimap": json.RawMessage(`{}`)}
	if got := IdentitySHA256(added); got != want {
		t.Errorf("a trimap column changed the identity: %s vs %s", got, want)
	}
	for name, change := range map[string]func(*Sample){
		"mask hash": func(s *Sample) { s.SHA256["masks/a.png"] = "23" },
		"split":     func(s *Sample) { s.Split = "val" },
		"id":        func(s *Sample) { s.ID = "b" },
		"alpha":     func(s *Sample) { s.Alpha = "alphas/a.png" },
	} {
		s := base()
		change(&s[0])
		if IdentitySHA256(s) == want {
			t.Errorf("%s: identity unchanged", name)
		}
	}
}

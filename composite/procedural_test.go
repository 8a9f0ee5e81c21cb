package composite

import (
	"crypto/sha256"
	"testing"
)

func TestParseProcedural(t *testing.T) {
	all, err := ParseProcedural("procedural")
	if err != nil || len(all) != 5 {
		t.Fatalf("procedural: %v %v", all, err)
	}
	two, err := ParseProcedural("procedural:stripes, noise")
	if err != nil || len(two) != 2 || two[1] != "procedural:noise" || !IsProcedural(two[0]) {
		t.Fatalf("got %v %v", two, err)
	}
	for _, bad := range []string{"procedural:plaid", "stripes", "folder:x"} {
		if _, err := ParseProcedural(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProceduralPatterns(t *testing.T) {
	ids, _ := ParseProcedural("procedural")
	fg := opaque(t, 2, 2)
	for _, id := range ids {
		bg, err := loadBackground(id)
		if err != nil {
			t.Fatal(err)
		}
		defer bg.Close()
		o := Options{Width: 64, Height: 48, Layers: true}
		hash := func(k int) [32]byte { return sha256.Sum256(bytesOf(t, mustComposite(t, fg, nil, bg, k, o).B)) }
		if h0, again := hash(0), hash(0); h0 != again {
			t.Errorf("%s: same seed, different pattern", id)
		}
		if hash(0) == hash(1) {
			t.Errorf("%s: composites 0 and 1 drew the same pattern", id)
		}
		b := bytesOf(t, mustComposite(t, fg, nil, bg, 2, o).B)
		lo, hi := 255, 0
		for _, v := range b {
			lo, hi = min(lo, int(v)), max(hi, int(v))
		}
		if hi-lo < 20 {
			t.Errorf("%s: flat pattern (%d..%d)", id, lo, hi)
		}
	}
}

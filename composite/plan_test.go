package composite

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func ids(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%02d.png", prefix, i)
	}
	return s
}

func TestPlanDistinctBackgrounds(t *testing.T) {
	fgs, bgs := ids("fg", 5), ids("bg", 30)
	items, err := Plan(fgs, bgs, Options{Seed: 3, PerFg: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 100 {
		t.Fatalf("%d items, want 100", len(items))
	}
	used := map[int]map[int]bool{}
	for _, it := range items {
		if used[it.Fg] == nil {
			used[it.Fg] = map[int]bool{}
		}
		if used[it.Fg][it.Bg] {
			t.Fatalf("fg %d reuses background %d", it.Fg, it.Bg)
		}
		used[it.Fg][it.Bg] = true
		if it.Second != -1 {
			t.Fatal("second foreground with Multi 0")
		}
	}
	// A pure function of (seed, fg id): dropping other foregrounds changes nothing.
	again, _ := Plan(fgs[2:3], bgs, Options{Seed: 3, PerFg: 20})
	for k, it := range again {
		if it.Bg != items[40+k].Bg {
			t.Fatal("a foreground's draws depend on the other foregrounds")
		}
	}
	other, _ := Plan(fgs, bgs, Options{Seed: 4, PerFg: 20})
	if reflect.DeepEqual(other, items) {
		t.Error("seed has no effect")
	}
}

func TestPlanTooFewBackgrounds(t *testing.T) {
	_, err := Plan(ids("fg", 2), ids("bg", 3), Options{PerFg: 4})
	if !errors.Is(err, ErrTooFewBackgrounds) {
		t.Fatalf("got %v, want ErrTooFewBackgrounds", err)
	}
	items, err := Plan(ids("fg", 2), ids("bg", 3), Options{PerFg: 7, AllowRepeat: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every background once before any twice: counts 3,3,1 -> each bg 2 or 3 times.
	count := map[int]int{}
	for _, it := range items[:7] {
		count[it.Bg]++
	}
	for bg, n := range count {
		if n < 2 || n > 3 {
			t.Errorf("background %d used %d times in 7 draws from 3", bg, n)
		}
	}
	proc, _ := ParseProcedural("procedural:stripes,blobs")
	if _, err := Plan(ids("fg", 2), proc, Options{PerFg: 20}); err != nil {
		t.Errorf("procedural backgrounds never run short: %v", err)
	}
	if _, err := Plan([]string{"a", "a"}, proc, Options{}); err == nil {
		t.Error("duplicate foreground ids accepted")
	}
}

func TestPlanMulti(t *testing.T) {
	fgs := ids("fg", 4)
	items, err := Plan(fgs, ids("bg", 10), Options{PerFg: 10, Multi: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Second >= 0 {
			n++
			if it.Second == it.Fg || it.Second >= len(fgs) {
				t.Fatalf("second foreground %d for %d", it.Second, it.Fg)
			}
		}
	}
	if n < 8 || n > 32 {
		t.Errorf("%d of 40 with a second foreground at p=0.5", n)
	}
	one, _ := Plan(fgs[:1], ids("bg", 10), Options{PerFg: 10, Multi: 1})
	for _, it := range one {
		if it.Second != 0 {
			t.Fatal("a lone foreground with Multi 1 should pair with itself")
		}
	}
}

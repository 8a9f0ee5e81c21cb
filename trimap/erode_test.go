package trimap

import (
	"fmt"
	"sync"
	"testing"
)

// TestMorphologicalExactWidth: a 21x21 foreground square (alpha 255) with
// a 4-pixel ring of alpha 128 in a 60x60 zero background. Eroding by w
// shrinks the square by exactly w on each side (a disc fits in its
// corners), and the background's inner edge moves out by exactly w along
// the axes.
func TestMorphologicalExactWidth(t *testing.T) {
	const n = 60
	alpha := NewGray(n, n)
	for y := 15; y < 44; y++ {
		for x := 15; x < 44; x++ {
			alpha.Pix[y*n+x] = 128
		}
	}
	for y := 19; y < 40; y++ { // square [19,40)
		for x := 19; x < 40; x++ {
			alpha.Pix[y*n+x] = 255
		}
	}
	for _, w := range []int{0, 1, 3, 7} {
		for _, bw := range []int{0, 2, 5} {
			got, flag, err := Morphological(alpha, w, bw)
			if err != nil {
				t.Fatal(err)
			}
			if flag != FlagNone {
				t.Errorf("flag %v", flag)
			}
			for y := range n {
				for x := range n {
					v := got.Pix[y*n+x]
					inFG := x >= 19+w && x < 40-w && y >= 19+w && y < 40-w
					if (v == Foreground) != inFG {
						t.Fatalf("fg %d: (%d,%d) = %d", w, x, y, v)
					}
				}
			}
			// Background along the middle row and column: the zero
			// region [0,15) shrinks to [0,15-bw).
			for i := range n {
				for _, p := range []int{30*n + i, i*n + 30} {
					v := got.Pix[p]
					inBG := i < 15-bw || i >= 44+bw
					if (v == Background) != inBG {
						t.Fatalf("bg %d: index %d along the axis = %d", bw, i, v)
					}
				}
			}
		}
	}
}

func TestMorphologicalFlags(t *testing.T) {
	alpha := NewGray(12, 9)
	got, flag, err := Morphological(alpha, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if flag != FlagAllBackground || got.Pix[50] != Background {
		t.Errorf("all-zero matte: flag %v", flag)
	}
	for i := range alpha.Pix {
		alpha.Pix[i] = 255
	}
	if _, flag, _ = Morphological(alpha, 3, 3); flag != FlagAllForeground {
		t.Errorf("all-one matte: flag %v", flag)
	}
	if _, _, err := Morphological(alpha, -1, 3); err == nil {
		t.Error("negative width accepted")
	}
}

func TestMorphWidths(t *testing.T) {
	fg, bg, err := MorphWidths(MorphOptions{}, "a")
	if err != nil || fg != DefaultMorphWidth || bg != DefaultMorphWidth {
		t.Errorf("default: %d %d %v", fg, bg, err)
	}
	fg, bg, _ = MorphWidths(MorphOptions{Width: 4}, "a")
	if fg != 4 || bg != 4 {
		t.Errorf("fixed: %d %d", fg, bg)
	}
	if _, _, err := MorphWidths(MorphOptions{MinWidth: 5, MaxWidth: 4}, "a"); err == nil {
		t.Error("empty range accepted")
	}

	// Random: in range, every value reached, fg and bg drawn separately,
	// and a pure function of (seed, id): the same from many goroutines in
	// any order.
	opt := MorphOptions{MinWidth: 3, MaxWidth: 9, Seed: 42}
	want := map[string][2]int{}
	seen := map[int]bool{}
	differ := 0
	for i := range 500 {
		id := fmt.Sprintf("img%04d.png", i)
		fg, bg, err := MorphWidths(opt, id)
		if err != nil {
			t.Fatal(err)
		}
		if fg < 3 || fg > 9 || bg < 3 || bg > 9 {
			t.Fatalf("%s: widths %d %d outside [3,9]", id, fg, bg)
		}
		seen[fg], seen[bg] = true, true
		if fg != bg {
			differ++
		}
		want[id] = [2]int{fg, bg}
	}
	if len(seen) != 7 || differ < 300 {
		t.Errorf("values reached %v, fg != bg on %d of 500", seen, differ)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 499; i >= 0; i-- {
				id := fmt.Sprintf("img%04d.png", (i*7+g)%500)
				fg, bg, _ := MorphWidths(opt, id)
				if w := want[id]; w != [2]int{fg, bg} {
					t.Errorf("%s: %d %d, first %v", id, fg, bg, w)
					return
				}
			}
		})
	}
	wg.Wait()
	same := 0
	for i := range 100 {
		id := fmt.Sprintf("img%04d.png", i)
		fg, bg, _ := MorphWidths(MorphOptions{MinWidth: 3, MaxWidth: 9, Seed: 43}, id)
		if want[id] == [2]int{fg, bg} {
			same++
		}
	}
	if same > 20 {
		t.Errorf("seed 43 repeats seed 42 on %d of 100 samples", same)
	}
}

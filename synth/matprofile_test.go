//go:build matprofile

package synth

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"
)

// TestNoMatLeaks needs gocv's Mat profile: go test -tags matprofile ./synth/
func TestMatProfile(t *testing.T) {
	if _, err := Generate(context.Background(), t.TempDir(), Options{Count: 2, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	s, err := Portrait(rand.New(rand.NewPCG(1, 2)), 96, 120)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	sc, err := Pedestrians(rand.New(rand.NewPCG(1, 2)), 160, 120)
	if err != nil {
		t.Fatal(err)
	}
	sc.Close()
	// Error paths must not leak either.
	if _, err := Portrait(rand.New(rand.NewPCG(1, 2)), 8, 8); err == nil {
		t.Error("tiny portrait: no error")
	}
	if _, err := GenerateClips(context.Background(), t.TempDir(), ClipOptions{Clips: 1, Frames: 3, Width: 64, Height: 64}); err != nil {
		t.Fatal(err)
	}
	if n := gocv.MatProfile.Count(); n != 0 {
		var b bytes.Buffer
		_ = gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats left open:\n%s", n, b.String())
	}
}

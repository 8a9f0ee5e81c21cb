package trimap_test

import (
	"context"
	"fmt"
	"log"

	"github.com/segtool/segtool/trimap"
)

// The superpixel trimap of one sample, as `segtool trimap --method
// superpixel` would make it.
func ExampleFromSuperpixels() {
	ctx := context.Background()
	im, err := trimap.ReadImage("image.png")
	if err != nil {
		log.Fatal(err)
	}
	alpha, err := trimap.ReadGray("alpha.png")
	if err != nil {
		log.Fatal(err)
	}
	tri, flag, err := trimap.FromSuperpixels(ctx, im, alpha, trimap.SuperpixelOptions{})
	if err != nil {
		log.Fatal(err) // errors.Is(err, trimap.ErrSuperpixelCount): a usage error
	}
	if flag != trimap.FlagNone {
		fmt.Printf("reject image.png: %v\n", flag)
		return
	}
	if err := trimap.WriteGray("trimap.png", tri); err != nil {
		log.Fatal(err)
	}
}

// The trimap of matting training code, with a random width per sample and
// side drawn from [5, 25].
func ExampleMorphological() {
	alpha := trimap.NewGray(64, 64)
	for y := 16; y < 48; y++ {
		for x := 16; x < 48; x++ {
			alpha.Pix[y*64+x] = 255
		}
	}
	fg, bg, err := trimap.MorphWidths(trimap.MorphOptions{MinWidth: 5, MaxWidth: 25, Seed: 7}, "sample-0001.png")
	if err != nil {
		log.Fatal(err)
	}
	tri, flag, err := trimap.Morphological(alpha, fg, bg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tri.W, tri.H, flag)
	// Output: 64 64 ok
}

// The picture of `segtool superpixels --image FILE --out FILE`.
func ExampleDrawBoundaries() {
	im, err := trimap.ReadImage("image.png")
	if err != nil {
		log.Fatal(err)
	}
	sp, err := trimap.SLIC(context.Background(), im, trimap.SLICOptions{})
	if err != nil {
		log.Fatal(err)
	}
	out, err := trimap.DrawBoundaries(im, sp, [3]uint8{0, 255, 255}) // yellow, in BGR
	if err != nil {
		log.Fatal(err)
	}
	if err := trimap.WriteImage("superpixels.png", out); err != nil {
		log.Fatal(err)
	}
}

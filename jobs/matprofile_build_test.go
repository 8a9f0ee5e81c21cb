//go:build matprofile

package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/jobs"
	"gocv.io/x/gocv"
)

// TestMatProfileBuild builds datasets from a source full of awkward and bad
// files, with and without resizing and crops, then validates and inspects
// them, and checks after every step that gocv's live-Mat count is back to
// where it started: every Mat the build opens (through package dataset) is closed, on the
// success paths and on every reject path.
func TestMatProfileBuild(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	buildMatProfileSource(t, src)

	leaks := matleak.Start(t)
	check := leaks.Check
	ctx := context.Background()
	outDir := t.TempDir()
	build := func(step string, o jobs.BuildOptions) jobs.BuildSummary {
		t.Helper()
		o.Format, o.Src, o.Version = "folder", src, "matprofile"
		if o.Workers == 0 {
			o.Workers = 2
		}
		sum, err := jobs.Build(ctx, o)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		check(step)
		return sum
	}
	wantCodes := func(step string, sum jobs.BuildSummary, codes ...string) {
		t.Helper()
		for _, c := range codes {
			if sum.RejectCodes[c] == 0 {
				t.Errorf("%s: no %q reject; got %v", step, c, sum.RejectCodes)
			}
		}
	}

	plain := jobs.BuildOptions{Out: filepath.Join(outDir, "plain")}
	sum := build("plain build", plain)
	wantCodes("plain build", sum, dataset.CodeTruncated, dataset.CodeSizeMismatch, dataset.CodeCorrupt,
		dataset.CodeNotImage, dataset.CodeUnsupported, dataset.CodeMissingPartner, dataset.CodeAppleDouble,
		dataset.CodeEmptyMask)
	if sum.Samples < 30 || sum.Thresholded == 0 || sum.Flagged == 0 {
		t.Errorf("plain build: %d samples, %d thresholded, %d flagged; want >= 30, > 0, > 0", sum.Samples, sum.Thresholded, sum.Flagged)
	}

	crops := jobs.BuildOptions{Out: filepath.Join(outDir, "crops"), Resize: image.Pt(120, 150), Crops: 3, CropSize: 64}
	sum = build("resize+crops build", crops)
	if sum.Samples < 90 {
		t.Errorf("resize+crops build: %d samples, want >= 90", sum.Samples)
	}

	maxSide := jobs.BuildOptions{Out: filepath.Join(outDir, "maxside"), MaxSide: 150, Crops: 2, CropSize: 100, RunOptions: jobs.RunOptions{Workers: 1}}
	sum = build("max-side+crops build", maxSide)
	wantCodes("max-side+crops build", sum, dataset.CodeTooSmall)

	up := jobs.BuildOptions{Out: filepath.Join(outDir, "upscale"), Resize: image.Pt(320, 400)}
	build("upscale build", up)

	resume := plain
	resume.Resume = true
	if sum := build("resume of plain", resume); sum.Reused == 0 {
		t.Errorf("resume of plain: nothing reused")
	}
	force := crops
	force.Force = true
	build("force rebuild of resize+crops", force)

	// Builds that stop early: --fail-fast on the first bad file, and a
	// cancelled context.
	ff := jobs.BuildOptions{Format: "folder", Src: src, Out: filepath.Join(outDir, "failfast"), RunOptions: jobs.RunOptions{FailFast: true, Workers: 2}}
	if _, err := jobs.Build(ctx, ff); err == nil {
		t.Errorf("fail-fast build: no error")
	}
	check("fail-fast build")
	cctx, cancel := context.WithCancel(ctx)
	cb := jobs.BuildOptions{Format: "folder", Src: src, Out: filepath.Join(outDir, "cancelled"),
		RunOptions: jobs.RunOptions{Workers: 2, Progress: func(done, _ int) {
			if done == 5 {
				cancel()
			}
		}},
	}
	if _, err := jobs.Build(cctx, cb); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build: err = %v, want context.Canceled", err)
	}
	cancel()
	check("cancelled build")

	for _, o := range []jobs.BuildOptions{plain, crops, maxSide, up} {
		name := filepath.Base(o.Out)
		d, err := dataset.Open(o.Out)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		problems, err := dataset.Validate(ctx, d, 2, nil)
		if err != nil {
			t.Fatalf("validate %s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("validate %s: %s", name, p)
		}
		check("validate " + name)
		st, err := dataset.Inspect(ctx, d)
		if err != nil {
			t.Fatalf("inspect %s: %v", name, err)
		}
		if st.Samples != len(d.Samples) || st.AlphaPix == 0 {
			t.Errorf("inspect %s: %d samples (manifest %d), %d alpha pixels", name, st.Samples, len(d.Samples), st.AlphaPix)
		}
		check("inspect " + name)
	}
}

// Source sizes: most pairs are buildMPW x buildMPH; a few are small, so a
// --crop-size larger than them rejects them.
const (
	buildMPW, buildMPH           = 160, 200
	buildMPSmallW, buildMPSmallH = 96, 120
)

// buildMPPortrait draws a w x h BGR portrait (gradient, clutter, a person, noise)
// and the person's 0/255 mask.
func buildMPPortrait(rng *rand.Rand, w, h int) (img, mask gocv.Mat) {
	img = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	px, _ := img.DataPtrUint8()
	var c0, cx, cy [3]float64
	for k := range 3 {
		c0[k], cx[k], cy[k] = float64(rng.IntN(200)+20), float64(rng.IntN(120)-60), float64(rng.IntN(120)-60)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for k := range 3 {
				px[(y*w+x)*3+k] = buildBenchClamp8(c0[k] + cx[k]*float64(x)/float64(w) + cy[k]*float64(y)/float64(h))
			}
		}
	}
	rc := func() color.RGBA {
		return color.RGBA{R: uint8(rng.IntN(256)), G: uint8(rng.IntN(256)), B: uint8(rng.IntN(256))}
	}
	for range 4 {
		gocv.Circle(&img, image.Pt(rng.IntN(w), rng.IntN(h)), 5+rng.IntN(w/5), rc(), -1)
	}
	mask = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC1)
	cxp, headR := w/2+rng.IntN(w/8)-w/16, w/9+rng.IntN(w/16)
	headY := h/5 + rng.IntN(h/10)
	body := image.Pt(w/4+rng.IntN(w/10), h/3+rng.IntN(h/10))
	shirt := rc()
	for _, d := range []struct {
		m    *gocv.Mat
		a, b color.RGBA
	}{{&img, shirt, color.RGBA{R: 220, G: 170, B: 140}}, {&mask, color.RGBA{R: 255, G: 255, B: 255}, color.RGBA{R: 255, G: 255, B: 255}}} {
		gocv.Ellipse(d.m, image.Pt(cxp, headY+headR+body.Y-4), body, 0, 0, 360, d.a, -1)
		gocv.Circle(d.m, image.Pt(cxp, headY), headR, d.b, -1)
	}
	for i := range px {
		px[i] = buildBenchClamp8(float64(px[i]) + float64(rng.IntN(13)-6))
	}
	return img, mask
}

// buildMPSoft returns a soft matte: the mask blurred, so its edges take values
// between 0 and 255.
func buildMPSoft(mask gocv.Mat) gocv.Mat {
	a := gocv.NewMat()
	gocv.GaussianBlur(mask, &a, image.Pt(9, 9), 0, 0, gocv.BorderReflect101)
	return a
}

// buildMPTrimap returns 0/128/255 from a soft matte, with some in-between values
// (100), which the build snaps to 128, when off is set.
func buildMPTrimap(alpha gocv.Mat, off bool) gocv.Mat {
	tri := alpha.Clone()
	px, _ := tri.DataPtrUint8()
	for i, v := range px {
		switch {
		case v == 0 || v == 255:
		case off && i%7 == 0:
			px[i] = 100
		default:
			px[i] = 128
		}
	}
	return tri
}

type buildMPSource struct {
	t   *testing.T
	src string
}

func (s buildMPSource) mat(rel string, m gocv.Mat, params ...int) {
	s.t.Helper()
	p := filepath.Join(s.src, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	ok := false
	if len(params) == 0 { // IMWriteWithParams indexes params[0]
		ok = gocv.IMWrite(p, m)
	} else {
		ok = gocv.IMWriteWithParams(p, m, params)
	}
	if !ok {
		s.t.Fatalf("write %s", rel)
	}
}

func (s buildMPSource) bytes(rel string, b []byte) {
	s.t.Helper()
	p := filepath.Join(s.src, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s buildMPSource) encoded(rel, ext string, m gocv.Mat) []byte {
	s.t.Helper()
	buf, err := gocv.IMEncode(gocv.FileExt(ext), m)
	if err != nil {
		s.t.Fatalf("encode %s: %v", rel, err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...)
}

// buildMatProfileSource writes a folder-layout source of about fifty pairs:
// plain JPEG/PNG pairs, pairs with alphas and trimaps, alpha-only pairs, and
// one of each awkward or bad input the build must convert or reject.
// Every Mat it makes is closed before it returns.
func buildMatProfileSource(t *testing.T, src string) {
	t.Helper()
	s := buildMPSource{t: t, src: src}
	jpg := []int{gocv.IMWriteJpegQuality, 95}
	for i := 0; i < 48; i++ {
		rng := rand.New(rand.NewPCG(7, uint64(i)))
		w, h := buildMPW, buildMPH
		if i == 44 || i == 45 {
			w, h = buildMPSmallW, buildMPSmallH
		}
		img, mask := buildMPPortrait(rng, w, h)
		alpha := buildMPSoft(mask)
		stem := fmt.Sprintf("p%02d", i)
		im, mk, al, tr := "images/"+stem, "masks/"+stem, "alphas/"+stem, "trimaps/"+stem
		switch {
		case i < 20: // plain pairs
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", mask)
		case i < 25: // with alpha and trimap
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", mask)
			s.mat(al+".png", alpha)
			tri := buildMPTrimap(alpha, false)
			s.mat(tr+".png", tri)
			tri.Close()
		case i < 28: // PNG image, alpha only, trimap needing a snap
			s.mat(im+".png", img)
			s.mat(al+".png", alpha)
			tri := buildMPTrimap(alpha, true)
			s.mat(tr+".png", tri)
			tri.Close()
		case i == 28: // soft mask: thresholded
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", alpha)
		case i == 29: // palette mask
			s.mat(im+".jpg", img, jpg...)
			mpx, _ := mask.DataPtrUint8()
			p := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.RGBA{R: 200, A: 255}})
			for j, v := range mpx {
				p.Pix[j] = v / 255
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, p); err != nil {
				t.Fatal(err)
			}
			s.bytes(mk+".png", buf.Bytes())
		case i == 30: // grey mask stored as BGR
			s.mat(im+".jpg", img, jpg...)
			bgr := gocv.NewMat()
			gocv.CvtColor(mask, &bgr, gocv.ColorGrayToBGR)
			s.mat(mk+".png", bgr)
			bgr.Close()
		case i == 31: // colour mask: rejected
			s.mat(im+".jpg", img, jpg...)
			bgr := gocv.NewMat()
			gocv.CvtColor(mask, &bgr, gocv.ColorGrayToBGR)
			bpx, _ := bgr.DataPtrUint8()
			for j := 1; j < len(bpx); j += 3 {
				bpx[j] /= 2
			}
			s.mat(mk+".png", bgr)
			bgr.Close()
		case i == 32: // grey JPEG image
			g := gocv.NewMat()
			gocv.CvtColor(img, &g, gocv.ColorBGRToGray)
			s.mat(im+".jpg", g, jpg...)
			g.Close()
			s.mat(mk+".png", mask)
		case i == 33 || i == 34: // RGBA image, opaque (33) or with holes (34, rejected)
			rgba := gocv.NewMat()
			gocv.CvtColor(img, &rgba, gocv.ColorBGRToBGRA)
			if i == 34 {
				rpx, _ := rgba.DataPtrUint8()
				for j := 3; j < len(rpx)/4; j += 4 {
					rpx[j] = 0
				}
			}
			s.mat(im+".png", rgba)
			rgba.Close()
			s.mat(mk+".png", mask)
		case i == 35: // 16-bit image, mask and alpha
			for _, f := range []struct {
				rel string
				m   gocv.Mat
				typ gocv.MatType
			}{{im + ".png", img, gocv.MatTypeCV16UC3}, {mk + ".png", mask, gocv.MatTypeCV16UC1}, {al + ".png", alpha, gocv.MatTypeCV16UC1}} {
				m16 := gocv.NewMat()
				f.m.ConvertToWithParams(&m16, f.typ, 257, 0)
				s.mat(f.rel, m16)
				m16.Close()
			}
		case i == 36: // truncated JPEG
			b := s.encoded(im, ".jpg", img)
			s.bytes(im+".jpg", b[:len(b)/2])
			s.mat(mk+".png", mask)
		case i == 37: // mask of another size
			s.mat(im+".jpg", img, jpg...)
			small := gocv.NewMat()
			gocv.Resize(mask, &small, image.Pt(w/2, h/2), 0, 0, gocv.InterpolationNearestNeighbor)
			s.mat(mk+".png", small)
			small.Close()
		case i == 38: // trimap of another size (mask and alpha fine)
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", mask)
			s.mat(al+".png", alpha)
			small := gocv.NewMat()
			gocv.Resize(alpha, &small, image.Pt(w/2, h/2), 0, 0, gocv.InterpolationNearestNeighbor)
			tri := buildMPTrimap(small, false)
			s.mat(tr+".png", tri)
			tri.Close()
			small.Close()
		case i == 39: // JPEG markers around garbage: the decoder fails
			junk := make([]byte, 4096)
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			s.bytes(im+".jpg", append(append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, junk...), 0xFF, 0xD9))
			s.mat(mk+".png", mask)
		case i == 40: // text named .jpg
			s.bytes(im+".jpg", []byte("not a picture\n"))
			s.mat(mk+".png", mask)
		case i == 41: // alpha fine, mask truncated: the alpha must be closed
			s.mat(im+".jpg", img, jpg...)
			s.mat(al+".png", alpha)
			b := s.encoded(mk, ".png", mask)
			s.bytes(mk+".png", b[:len(b)*2/3])
		case i == 42: // all-zero mask: kept, flagged
			s.mat(im+".jpg", img, jpg...)
			zero := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC1)
			s.mat(mk+".png", zero)
			zero.Close()
		case i == 43: // alpha and mask fine, trimap corrupt: both must be closed
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", mask)
			s.mat(al+".png", alpha)
			b := s.encoded(tr, ".png", alpha)
			for j := 64; j < len(b)-16; j++ {
				b[j] ^= 0x5A
			}
			s.bytes(tr+".png", b)
		case i == 44 || i == 45: // small pairs: too small for --crop-size 100
			s.mat(im+".jpg", img, jpg...)
			s.mat(mk+".png", mask)
		case i == 46: // grey mask stored as BGRA
			s.mat(im+".jpg", img, jpg...)
			bgra := gocv.NewMat()
			gocv.CvtColor(mask, &bgra, gocv.ColorGrayToBGRA)
			s.mat(mk+".png", bgra)
			bgra.Close()
		case i == 47: // image with no label, label with no image
			s.mat(im+".jpg", img, jpg...)
			s.mat("masks/orphan.png", mask)
		}
		img.Close()
		mask.Close()
		alpha.Close()
	}
	s.bytes("images/._p00.jpg", []byte{0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00})
	s.bytes("masks/notes.txt", []byte("labelled by hand\n"))
}

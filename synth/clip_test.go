package synth

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// readPNG decodes a PNG with Go's decoder (not OpenCV, which wrote it) into
// rows of channel values in the file's order: grey, or R, G, B.
func readPNG(t *testing.T, path string) ([]byte, int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return m.Pix, b.Dx(), b.Dy()
	case *image.RGBA:
		out := make([]byte, 0, 3*b.Dx()*b.Dy())
		for i := 0; i < len(m.Pix); i += 4 {
			out = append(out, m.Pix[i], m.Pix[i+1], m.Pix[i+2])
		}
		return out, b.Dx(), b.Dy()
	}
	t.Fatalf("%s: unexpected PNG type %T", path, img)
	return nil, 0, 0
}

// TestClipFramesAreExact checks every frame of a clip against the
// definition, pixel by pixel: the alpha and foreground are the drawn
// person moved by Offset (zeros where nothing moved in), the background is
// the scenery's window at x0, and the composite is α·F + (1−α)·B rounded
// (within 1 for float32 against this float64 computation, exact where α is
// 0 or 255). It also checks that the person and the background do move.
func TestClipFramesAreExact(t *testing.T) {
	const w, h, frames = 96, 72, 8
	c, err := NewClip(rand.New(rand.NewPCG(3, 4)), w, h, frames)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	alpha, _ := c.alpha.DataPtrUint8()
	person, _ := c.person.DataPtrUint8()
	scenery, _ := c.scenery.DataPtrUint8()
	sw := c.scenery.Cols()
	offsets := map[[3]int]bool{}
	for ti := range frames {
		dx, dy, x0 := c.Offset(ti)
		offsets[[3]int{dx, dy, x0}] = true
		f, err := c.Frame(ti)
		if err != nil {
			t.Fatal(err)
		}
		pha, _ := f.Pha.DataPtrUint8()
		fgr, _ := f.Fgr.DataPtrUint8()
		bgr, _ := f.Bgr.DataPtrUint8()
		com, _ := f.Com.DataPtrUint8()
		bad := 0
		for y := range h {
			for x := range w {
				p := y*w + x
				sx, sy := x-dx, y-dy
				var a byte
				var fg [3]byte
				if sx >= 0 && sx < w && sy >= 0 && sy < h {
					a = alpha[sy*w+sx]
					copy(fg[:], person[3*(sy*w+sx):])
				}
				if pha[p] != a {
					bad++
				}
				for k := range 3 {
					bg := scenery[3*(y*sw+x+x0)+k]
					want := math.Round(float64(a)/255*float64(fg[k]) + (1-float64(a)/255)*float64(bg))
					d := math.Abs(float64(com[3*p+k]) - want)
					if fgr[3*p+k] != fg[k] || bgr[3*p+k] != bg || d > 1 || (d > 0 && (a == 0 || a == 255)) {
						bad++
					}
				}
			}
		}
		if bad > 0 {
			t.Errorf("frame %d (offset %d,%d, x0 %d): %d values differ from the definition", ti, dx, dy, x0, bad)
		}
		f.Close()
	}
	if len(offsets) < frames/2 {
		t.Errorf("only %d distinct placements over %d frames: the clip hardly moves", len(offsets), frames)
	}
}

func generateClips(t *testing.T, opt ClipOptions) (string, ClipSummary) {
	t.Helper()
	dir := t.TempDir()
	sum, err := GenerateClips(context.Background(), dir, opt)
	if err != nil {
		t.Fatalf("GenerateClips: %v", err)
	}
	return dir, sum
}

// TestGenerateClipsLayout checks the files, their sizes, that pha is the
// alpha the composite was made with (com = α·fgr + (1−α)·bgr within 1,
// read back with Go's decoder), byte-identical PNGs for equal seeds,
// different ones for another seed, the refusal to overwrite, and that each
// mp4 decodes to as many frames as the clip has, at its size.
func TestGenerateClipsLayout(t *testing.T) {
	opt := ClipOptions{Clips: 2, Frames: 5, Width: 80, Height: 64, Seed: 11}
	a, sum := generateClips(t, opt)
	b, _ := generateClips(t, opt)
	opt.Seed = 12
	other, _ := generateClips(t, opt)
	if sum.Clips != 2 || sum.Frames != 10 || sum.Videos != 2 || sum.Files != 2*5*4+2 || sum.Bytes == 0 {
		t.Errorf("summary %+v", sum)
	}
	same, differ := 0, 0
	for _, clip := range []string{"clip_000", "clip_001"} {
		for _, stem := range []string{"0000.png", "0004.png"} {
			planes := map[string][]byte{}
			for _, sub := range clipSubdirs {
				rel := filepath.Join(VideoMatteDir, clip, sub, stem)
				ba, err1 := os.ReadFile(filepath.Join(a, rel))
				bb, err2 := os.ReadFile(filepath.Join(b, rel))
				bo, err3 := os.ReadFile(filepath.Join(other, rel))
				if err := errors.Join(err1, err2, err3); err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(ba, bb) {
					same++
				}
				if !bytes.Equal(ba, bo) {
					differ++
				}
				px, pw, ph := readPNG(t, filepath.Join(a, rel))
				if pw != 80 || ph != 64 {
					t.Errorf("%s is %dx%d, want 80x64", rel, pw, ph)
				}
				planes[sub] = px
			}
			bad := 0
			for p, al := range planes["pha"] {
				for k := range 3 {
					i := 3*p + k
					want := math.Round(float64(al)/255*float64(planes["fgr"][i]) + (1-float64(al)/255)*float64(planes["bgr"][i]))
					if math.Abs(float64(planes["com"][i])-want) > 1 {
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s/%s: %d composite values are not pha·fgr + (1−pha)·bgr", clip, stem, bad)
			}
		}
		cap, err := gocv.VideoCaptureFile(filepath.Join(a, VideosDir, clip+".mp4"))
		if err != nil {
			t.Fatal(err)
		}
		m := gocv.NewMat()
		n := 0
		for cap.Read(&m) && !m.Empty() {
			if m.Cols() != 80 || m.Rows() != 64 {
				t.Errorf("%s.mp4 frame %d is %dx%d", clip, n, m.Cols(), m.Rows())
			}
			n++
		}
		m.Close()
		cap.Close()
		if n != 5 {
			t.Errorf("%s.mp4 decodes to %d frames, want 5", clip, n)
		}
	}
	if same != 16 || differ != 16 {
		t.Errorf("equal seeds: %d of 16 PNGs identical; another seed: %d of 16 differ", same, differ)
	}
	if _, err := GenerateClips(context.Background(), a, ClipOptions{Clips: 1, Frames: 2, Width: 80, Height: 64}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second run without Force: %v, want fs.ErrExist", err)
	}
	// Force with fewer clips and frames leaves none of the old ones.
	if _, err := GenerateClips(context.Background(), a, ClipOptions{Clips: 1, Frames: 2, Width: 80, Height: 64, Force: true}); err != nil {
		t.Fatal(err)
	}
	got := listFiles(t, a)
	if len(got) != 1*2*4+1 {
		t.Errorf("after Force with 1 clip of 2 frames: %d files %v", len(got), got)
	}
}

package augment

import (
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

// benchOps fix every parameter so that testdata/bench_cv2.py can make the
// same OpenCV calls from Python for a side-by-side comparison.
var benchOps = []struct{ name, yaml string }{
	{"add", `ops: [{add: {value: 20}}]`},
	{"add_elementwise", `ops: [{add_elementwise: {value: [-20, 20], per_channel: true}}]`},
	{"gaussian_noise", `ops: [{gaussian_noise: {sigma: 10, per_channel: true}}]`},
	{"brightness_hsv", `ops: [{brightness_hsv: {scale: 1.2}}]`},
	{"hue_saturation", `ops: [{hue_saturation: {hue: 10, saturation: 1.2}}]`},
	{"gamma", `ops: [{gamma: {gamma: 1.5}}]`},
	{"contrast", `ops: [{contrast: {alpha: 1.3}}]`},
	{"jpeg_quality", `ops: [{jpeg_quality: {quality: 50}}]`},
	{"mean_blur", `ops: [{mean_blur: {kernel: 5}}]`},
	{"median_blur", `ops: [{median_blur: {kernel: 5}}]`},
	{"gaussian_blur", `ops: [{gaussian_blur: {sigma: 1.5}}]`},
	{"occlusion", `ops: [{occlusion: {count: 3, size: 0.2, fill: noise}}]`},
	{"fliplr", `ops: [fliplr]`},
	{"flipud", `ops: [flipud]`},
	{"affine", `ops: [{affine: {rotate: 10, scale: 1.1, translate_x: 0.05, translate_y: 0.05, shear: 5}}]`},
	{"rotate", `ops: [{rotate: {angle: 10}}]`},
	{"random_crop", `ops: [{random_crop: {width: 384, height: 384}}]`},
	{"resize", `ops: [{resize: {width: 256, height: 256}}]`},
	{"pad_to", `ops: [{pad_to: {width: 640, height: 640}}]`},
}

// benchSample is a real 512x512 photo with its hand-made person mask when
// ../shared is present (the image bench_cv2.py reads), else a synthetic one.
func benchSample(b *testing.B) *Sample {
	root, ok := shareddata.Find()
	if ok {
		dir := filepath.Join(root, "data", "people-parts")
		img := gocv.IMRead(filepath.Join(dir, "images", "000335.png"), gocv.IMReadColor)
		lab := gocv.IMRead(filepath.Join(dir, "labels", "000335.png"), gocv.IMReadGrayScale)
		if !img.Empty() && !lab.Empty() {
			gocv.Threshold(lab, &lab, 0, 255, gocv.ThresholdBinary)
			return &Sample{Image: img, Mask: lab}
		}
		img.Close()
		lab.Close()
	}
	b.Log("shared photo not found: using a synthetic 512x512 image")
	return textureSample(b, 512, 512)
}

// BenchmarkOps times each op on a 512x512 RGB image with mask. Each input
// is cloned outside the timer just before use, so it is as warm in cache as
// the one image Python hands every call; closing the output is timed, as
// Python frees its output inside its loop too. OpenCV runs single-threaded
// here, as testdata/bench_cv2.py does with cv2.setNumThreads(1). img/cpu-s divides by process CPU time, which a busy shared machine
// disturbs less than wall time.
func BenchmarkOps(b *testing.B) {
	s := benchSample(b)
	defer s.Close()
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(0)
	for _, tc := range benchOps {
		b.Run(tc.name, func(b *testing.B) {
			p := mustParse(b, tc.yaml)
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				c := s.Clone()
				b.StartTimer()
				c0 := fixture.CPUTime()
				if _, err := p.Apply(c, 1, "bench", i); err != nil {
					b.Fatal(err)
				}
				c.Close()
				cpu += fixture.CPUTime() - c0
			}
			// Take out the cost of the two CPUTime calls per image, a few
			// per cent of the fastest ops.
			probe := cpuProbeCost() * time.Duration(b.N)
			b.ReportMetric(float64(b.N)/(b.Elapsed()-probe).Seconds(), "img/s")
			if cpu > 0 {
				b.ReportMetric(float64(b.N)/(cpu-probe).Seconds(), "img/cpu-s")
			}
		})
	}
}

// cpuProbeCost is the time one fixture.CPUTime() pair takes.
func cpuProbeCost() time.Duration {
	const n = 2000
	t0 := time.Now()
	for range n {
		fixture.CPUTime()
		fixture.CPUTime()
	}
	return time.Since(t0) / n
}

// BenchmarkPresets times each preset end to end through Bench.
func BenchmarkPresets(b *testing.B) {
	s := benchSample(b)
	defer s.Close()
	files, _ := filepath.Glob("../configs/augment/*.yaml")
	for _, f := range files {
		b.Run(filepath.Base(f), func(b *testing.B) {
			p, err := LoadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			r, err := Bench(p, s, b.N, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.ImagesPerSecond(), "img/s")
		})
	}
}

func TestBench(t *testing.T) {
	s := personSample(t, 120, 100)
	defer s.Close()
	before := bytesOf(t, &s.Image)
	p := mustParse(t, "ops: [fliplr, {gaussian_blur: {sigma: 1}}]")
	r, err := Bench(p, s, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 5 || len(r.Steps) != 2 || r.Steps[0].Op != "fliplr" || r.Steps[1].Op != "gaussian_blur" || r.ImagesPerSecond() <= 0 {
		t.Errorf("result %+v", r)
	}
	if string(before) != string(bytesOf(t, &s.Image)) {
		t.Error("Bench changed its input")
	}
}

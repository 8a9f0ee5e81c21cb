package models

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite configs/models/<preset>.yaml from the presets")

const configDir = "../configs/models"

func TestPresets(t *testing.T) {
	list := presetList()
	if len(Presets()) != len(list) {
		t.Fatalf("%d presets but %d names: a name is used twice", len(list), len(Presets()))
	}
	for _, want := range []string{"sinet", "sinet-softmax", "prisma", "unet-aspp", "modnet", "pp-humanseg", "isnet", "oracle"} {
		if _, ok := Presets()[want]; !ok {
			t.Errorf("no preset %q", want)
		}
	}
	for _, s := range list {
		if err := s.check(false); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if s.Source == "" {
			t.Errorf("%s: no source for its preprocessing facts", s.Name)
		}
	}
	// The shared models README: SINet's x = ((p - mean) / std) / 255 in BGR.
	s := Presets()["sinet"]
	if got, want := s.Normalize(0, 120), 0.0010661564290184208; !near(float64(got), want, 1e-6) {
		t.Errorf("sinet B=120 -> %g, want %g", got, want)
	}
}

func near(got, want, rel float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= rel*max(1, abs(want))
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func presetYAML(s Spec) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Model spec preset " + s.Name + " (segtool eval --spec " + s.Name + ").\n")
	b.WriteString("# Written from models/presets.go by `go test ./models -run TestPresetFiles -update`;\n")
	b.WriteString("# copy it to describe your own model. Empty input/output/layout/output_kind and\n")
	b.WriteString("# width/height 0 are filled from the ONNX graph.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// TestPresetFiles checks that configs/models/<name>.yaml loads to exactly
// the preset, and that every file there loads.
func TestPresetFiles(t *testing.T) {
	for _, s := range presetList() {
		p := filepath.Join(configDir, s.Name+".yaml")
		if *update {
			data, err := presetYAML(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := LoadSpec(p)
		if err != nil {
			t.Errorf("%s: %v (run go test ./models -run TestPresetFiles -update)", s.Name, err)
			continue
		}
		if !sameSpec(got, s) {
			t.Errorf("%s loads to\n%+v\nthe preset is\n%+v\n(run go test ./models -run TestPresetFiles -update)", p, got, s)
		}
	}
	files, err := filepath.Glob(filepath.Join(configDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		s, err := LoadSpec(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if stem := strings.TrimSuffix(filepath.Base(f), ".yaml"); s.Name != stem {
			t.Errorf("%s names itself %q", f, s.Name)
		}
	}
}

// TestPresetsOnSharedModels runs the real models in ../shared/models on the
// shared P3M portraits with their presets and the package's geometry, and
// checks the IoU of prediction >= 0.5 against alpha >= 128 reaches the
// ballparks that README gives (SINet about 0.8, prisma about 0.9; far lower
// means wrong preprocessing). Assertions are set below the ballparks.
func TestPresetsOnSharedModels(t *testing.T) {
	modelDir := shareddata.Dir(t, "models")
	p3m := shareddata.Dir(t, "data/p3m")
	if _, err := LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := InitRuntime(); err != nil {
		t.Fatal(err)
	}
	images, err := filepath.Glob(filepath.Join(p3m, "images", "*.jpg"))
	if err != nil || len(images) == 0 {
		t.Skipf("skipping: no P3M images (%v)", err)
	}
	for _, c := range []struct {
		file, preset string
		min          float64
	}{
		{"SINet.onnx", "sinet", 0.7},
		{"SINet_Softmax.onnx", "sinet-softmax", 0.7},
		{"prisma_nchw.onnx", "prisma", 0.8},
	} {
		path := filepath.Join(modelDir, c.file)
		in, out, err := ort.GetInputOutputInfo(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Detect(Presets()[c.preset], in, out)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := ort.NewDynamicAdvancedSession(path, []string{s.Input}, []string{s.Output}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, img := range images {
			sum += sharedIoU(t, sess, s, img, filepath.Join(p3m, "alphas", strings.TrimSuffix(filepath.Base(img), ".jpg")+".png"))
		}
		if err := sess.Destroy(); err != nil {
			t.Error(err)
		}
		miou := sum / float64(len(images))
		t.Logf("%s (%s): mean IoU %.3f over %d P3M portraits", c.file, c.preset, miou, len(images))
		if miou < c.min {
			t.Errorf("%s: mean IoU %.3f < %.2f: the preset's preprocessing looks wrong", c.file, miou, c.min)
		}
	}
}

func sharedIoU(t *testing.T, sess *ort.DynamicAdvancedSession, s Spec, imgPath, alphaPath string) float64 {
	t.Helper()
	img := gocv.IMRead(imgPath, gocv.IMReadColor)
	defer img.Close()
	alpha := gocv.IMRead(alphaPath, gocv.IMReadGrayScale)
	defer alpha.Close()
	if img.Empty() || alpha.Empty() {
		t.Fatalf("cannot read %s or %s", imgPath, alphaPath)
	}
	p := Place(FitResize, img.Cols(), img.Rows(), s.Width, s.Height)
	x := make([]float32, s.ItemLen())
	if err := s.Preprocess(img, p, x); err != nil {
		t.Fatal(err)
	}
	input, err := ort.NewTensor(ort.NewShape(s.InputShape(1)...), x)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Destroy()
	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{input}, outs); err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	ot, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		t.Fatalf("output is %T", outs[0])
	}
	prob := make([]float32, s.Width*s.Height)
	if err := s.Probability(ot.GetData(), ot.GetShape()[1:], prob); err != nil {
		t.Fatal(err)
	}
	full, err := Restore(prob, p, img.Cols(), img.Rows())
	if err != nil {
		t.Fatal(err)
	}
	a, err := alpha.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	var inter, union int
	for i, v := range full {
		pr, gt := v >= 0.5, a[i] >= 128
		if pr && gt {
			inter++
		}
		if pr || gt {
			union++
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// sameSpec compares two specs by value, Recurrent's contents included and
// the lines LoadSpec records left out.
func sameSpec(a, b Spec) bool {
	strip := func(s Spec) Spec {
		if s.Recurrent != nil {
			r := *s.Recurrent
			r.States = slices.Clone(r.States)
			r.Constants = slices.Clone(r.Constants)
			for i := range r.States {
				r.States[i].Where = ""
			}
			for i := range r.Constants {
				r.Constants[i].Where = ""
			}
			s.Recurrent = &r
		}
		return s
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

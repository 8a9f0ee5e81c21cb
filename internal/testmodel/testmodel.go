// Package testmodel opens the ONNX models that tests of several packages
// run: the real ones in the shared folder and those onnxbuild makes. A test
// skips where ONNX Runtime or the shared folder is missing. It is for tests
// only.
package testmodel

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// NeedRuntime skips tb when the ONNX Runtime library is not installed.
func NeedRuntime(tb testing.TB) {
	tb.Helper()
	if _, err := models.LibraryPath(); err != nil {
		tb.Skipf("skipping: %v", err)
	}
}

// InitRuntime loads ONNX Runtime, skipping tb when the library is not
// installed.
func InitRuntime(tb testing.TB) {
	tb.Helper()
	NeedRuntime(tb)
	if _, err := models.InitRuntime(); err != nil {
		tb.Fatal(err)
	}
}

func write(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Oracle writes onnxbuild's default oracle (person where the red channel
// is >= 128) to dir/oracle.onnx and returns its path.
func Oracle(tb testing.TB, dir string) string {
	tb.Helper()
	b, err := onnxbuild.Oracle(onnxbuild.DefaultOracle())
	if err != nil {
		tb.Fatal(err)
	}
	return write(tb, filepath.Join(dir, "oracle.onnx"), b)
}

// Built builds onnxbuild's model name with o into dir (unet-aspp as
// unet_aspp.onnx) and returns its path.
func Built(tb testing.TB, dir, name string, o onnxbuild.Options) string {
	tb.Helper()
	m, err := onnxbuild.Build(name, o)
	if err != nil {
		tb.Fatal(err)
	}
	return write(tb, filepath.Join(dir, strings.ReplaceAll(name, "-", "_")+".onnx"), m.Data)
}

// Graph writes g to path and returns path.
func Graph(tb testing.TB, path string, g *onnxbuild.Graph) string {
	tb.Helper()
	data, err := g.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return write(tb, path, data)
}

// Detect resolves base against the model file at path, as segtool eval
// does.
func Detect(tb testing.TB, path string, base models.Spec) models.Spec {
	tb.Helper()
	info, err := models.ReadModelInfo(path)
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := models.Detect(base, info.Inputs, info.Outputs)
	if err != nil {
		tb.Fatal(err)
	}
	return spec
}

// Open opens the model at path with base resolved against it; the
// session is closed at cleanup.
func Open(tb testing.TB, path string, base models.Spec, o models.SessionOptions) *models.Session {
	tb.Helper()
	s, err := models.Open(path, Detect(tb, path, base), o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// OpenResolved opens the model req names with the spec ResolveSpec gives
// for req, as segtool does; the session is closed at cleanup.
func OpenResolved(tb testing.TB, req models.SpecRequest, o models.SessionOptions) *models.Session {
	tb.Helper()
	r, err := models.ResolveSpec(req)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := models.Open(req.Model, r.Spec, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// SINetSession opens ../shared/models/SINet.onnx with the sinet preset;
// the session is closed at cleanup.
func SINetSession(tb testing.TB) *models.Session {
	tb.Helper()
	dir := shareddata.Dir(tb, "models")
	NeedRuntime(tb)
	return Open(tb, filepath.Join(dir, "SINet.onnx"), models.Presets()["sinet"], models.SessionOptions{})
}

// SINet is SINetSession as a predictor that resizes each image to the
// model's size.
func SINet(tb testing.TB) *models.Predictor {
	tb.Helper()
	return models.NewPredictor(SINetSession(tb), models.FitResize, image.Point{}, 0)
}

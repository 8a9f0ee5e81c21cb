package matfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzMAT: any bytes give matrices or an error, never a panic, and every
// matrix holds as many values as its dimensions say. Seeds: the committed
// testdata/fuzz/FuzzMAT corpus, the hand-made matrices and the sample
// files.
func FuzzMAT(f *testing.F) {
	f.Add(handMade())
	f.Add(handMadeComplex())
	f.Add(header())
	files, _ := filepath.Glob("testdata/*.mat")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, m := range ms {
			n := 1
			for _, d := range m.Dims {
				n *= d
			}
			if len(m.Dims) > 0 && n != len(m.Data) {
				t.Errorf("variable %q: dims %v but %d values", m.Name, m.Dims, len(m.Data))
			}
		}
	})
}

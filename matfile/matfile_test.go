package matfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// header returns a little-endian 128-byte Level 5 header.
func header() []byte {
	h := []byte(fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, hand-made for matfile_test"))
	h = append(h, 0, 0, 0, 0, 0, 0, 0, 0) // subsystem data offset: none
	h = append(h, 0x00, 0x01)             // version 0x0100, little-endian
	h = append(h, 'I', 'M')               // endian indicator: 'MI' as a LE uint16
	return h
}

// handMade is a 2x3 uint8 matrix m = [1 2 3; 4 5 6], uncompressed,
// little-endian, assembled byte by byte from the spec.
func handMade() []byte {
	return append(header(),
		0x0e, 0, 0, 0, 0x38, 0, 0, 0, // miMATRIX, 56 bytes follow
		0x06, 0, 0, 0, 0x08, 0, 0, 0, // array flags: miUINT32, 8 bytes
		0x09, 0, 0, 0, 0, 0, 0, 0, //   class 9 = mxUINT8, no flag bits; nzmax 0
		0x05, 0, 0, 0, 0x08, 0, 0, 0, // dimensions: miINT32, 8 bytes
		0x02, 0, 0, 0, 0x03, 0, 0, 0, //   2 rows, 3 columns
		0x01, 0, 0x01, 0, 'm', 0, 0, 0, // name, small element: miINT8, 1 byte, "m" + 3 pad
		0x02, 0, 0, 0, 0x06, 0, 0, 0, // real part: miUINT8, 6 bytes
		1, 4, 2, 5, 3, 6, 0, 0, //       column-major values + 2 pad
	)
}

// handMadeComplex is a complex 1x3 double x = [3 7 11] + 1i whose parts are
// stored as small miUINT8 elements, the way MATLAB shrinks small integers.
func handMadeComplex() []byte {
	return append(header(),
		0x0e, 0, 0, 0, 0x38, 0, 0, 0, // miMATRIX, 56 bytes follow
		0x06, 0, 0, 0, 0x08, 0, 0, 0, // array flags: miUINT32, 8 bytes
		0x06, 0x08, 0, 0, 0, 0, 0, 0, //   class 6 = mxDOUBLE, complex bit (0x08 in byte 2)
		0x05, 0, 0, 0, 0x08, 0, 0, 0, // dimensions: miINT32, 8 bytes
		0x01, 0, 0, 0, 0x03, 0, 0, 0, //   1 x 3
		0x01, 0, 0x01, 0, 'x', 0, 0, 0, // name, small: miINT8, 1 byte, "x"
		0x02, 0, 0x03, 0, 3, 7, 11, 0, // real, small: miUINT8, 3 bytes
		0x02, 0, 0x03, 0, 1, 1, 1, 0, //  imaginary, small: miUINT8, 3 bytes (ignored)
	)
}

func mustRead(t *testing.T, b []byte) []*Matrix {
	t.Helper()
	ms, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return ms
}

func TestHandMadeUint8(t *testing.T) {
	ms := mustRead(t, handMade())
	if len(ms) != 1 {
		t.Fatalf("got %d matrices, want 1", len(ms))
	}
	m := ms[0]
	if m.Name != "m" || m.Class != ClassUint8 || m.Logical {
		t.Errorf("got name %q class %v logical %v", m.Name, m.Class, m.Logical)
	}
	if !reflect.DeepEqual(m.Dims, []int{2, 3}) || m.Rows() != 2 || m.Cols() != 3 {
		t.Errorf("dims %v rows %d cols %d, want [2 3]", m.Dims, m.Rows(), m.Cols())
	}
	want := [2][3]float64{{1, 2, 3}, {4, 5, 6}}
	for r := range 2 {
		for c := range 3 {
			if got := m.At(r, c); got != want[r][c] {
				t.Errorf("At(%d,%d) = %v, want %v", r, c, got, want[r][c])
			}
		}
	}
	px, err := m.RowMajorUint8()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(px, []byte{1, 2, 3, 4, 5, 6}) {
		t.Errorf("RowMajorUint8 = %v", px)
	}
	if m.Class.String() != "uint8" {
		t.Errorf("Class.String() = %q", m.Class.String())
	}
}

func TestSmallStorageAndComplex(t *testing.T) {
	ms := mustRead(t, handMadeComplex())
	if len(ms) != 1 {
		t.Fatalf("got %d matrices, want 1", len(ms))
	}
	m := ms[0]
	if m.Name != "x" || m.Class != ClassDouble || !reflect.DeepEqual(m.Dims, []int{1, 3}) {
		t.Errorf("got %q %v %v", m.Name, m.Class, m.Dims)
	}
	if !reflect.DeepEqual(m.Data, []float64{3, 7, 11}) {
		t.Errorf("real part %v, want [3 7 11]", m.Data)
	}
}

// TestSciPy reads files written by scipy.io.savemat (testdata/gen.py); the
// expected values are the ones gen.py wrote.
func TestSciPy(t *testing.T) {
	tests := []struct {
		file string
		want []*Matrix
		// rowMajor, if set, is the first matrix as an image plane.
		rowMajor []byte
	}{
		{"mask_u8_compressed.mat", []*Matrix{{
			Name: "mask", Class: ClassUint8, Dims: []int{4, 3},
			Data: []float64{0, 1, 255, 0, 2, 3, 128, 4, 5, 6, 7, 200},
		}}, []byte{
			0, 2, 5,
			1, 3, 6,
			255, 128, 7,
			0, 4, 200,
		}},
		{"list_double.mat", []*Matrix{{
			Name: "trainlist", Class: ClassDouble, Dims: []int{1, 5},
			Data: []float64{3, 7, 11, 19, 42},
		}}, []byte{3, 7, 11, 19, 42}},
		{"char_and_num.mat", []*Matrix{{
			Name: "nums", Class: ClassDouble, Dims: []int{1, 2},
			Data: []float64{-1.5, 2.25},
		}}, nil},
		{"logical.mat", []*Matrix{{
			Name: "flags", Class: ClassUint8, Dims: []int{2, 2},
			Data: []float64{1, 0, 0, 1}, Logical: true,
		}}, []byte{1, 0, 0, 1}},
		{"skip_cell_struct.mat", []*Matrix{{
			Name: "after", Class: ClassInt16, Dims: []int{1, 2},
			Data: []float64{-300, 7},
		}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %s, want %s", dump(got), dump(tt.want))
			}
			if tt.rowMajor != nil {
				px, err := got[0].RowMajorUint8()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(px, tt.rowMajor) {
					t.Errorf("RowMajorUint8 = %v, want %v", px, tt.rowMajor)
				}
			}
		})
	}
}

func dump(ms []*Matrix) string {
	var b bytes.Buffer
	for _, m := range ms {
		fmt.Fprintf(&b, "%+v ", *m)
	}
	return b.String()
}

// pattern returns a rows x cols matrix with Data[c*rows+r] = f(r, c).
func pattern(name string, class Class, rows, cols int, f func(r, c int) float64) *Matrix {
	m := &Matrix{Name: name, Class: class, Dims: []int{rows, cols}, Data: make([]float64, rows*cols)}
	for c := range cols {
		for r := range rows {
			m.Data[c*rows+r] = f(r, c)
		}
	}
	return m
}

// allClasses returns one small variable per numeric class with edge values,
// plus a logical, an empty and a 3-D matrix.
func allClasses() []*Matrix {
	vals := map[Class][]float64{
		ClassDouble: {-1.5, 0, math.Pi, math.Inf(1), 1e300, -1e-300},
		ClassSingle: {-1.5, 0, 0.25, 1 << 100, 1, 2},
		ClassInt8:   {-128, -1, 0, 1, 100, 127},
		ClassUint8:  {0, 1, 2, 128, 254, 255},
		ClassInt16:  {-32768, -300, 0, 7, 1000, 32767},
		ClassUint16: {0, 1, 300, 40000, 65534, 65535},
		ClassInt32:  {math.MinInt32, -70000, 0, 1, 70000, math.MaxInt32},
		ClassUint32: {0, 1, 70000, 1 << 31, 1<<32 - 2, math.MaxUint32},
		ClassInt64:  {math.MinInt64, -(1 << 53), -1, 0, 1 << 53, 1 << 62},
		ClassUint64: {0, 1, 1 << 53, 1 << 62, 1 << 63, 1<<64 - 2048},
	}
	var out []*Matrix
	for class := ClassDouble; class <= ClassUint64; class++ {
		out = append(out, &Matrix{Name: "v_" + class.String(), Class: class, Dims: []int{2, 3}, Data: vals[class]})
	}
	return append(out,
		&Matrix{Name: "bw", Class: ClassUint8, Dims: []int{1, 3}, Data: []float64{1, 0, 1}, Logical: true},
		&Matrix{Name: "e", Class: ClassDouble, Dims: []int{0, 0}, Data: []float64{}},
		&Matrix{Name: "cube", Class: ClassInt16, Dims: []int{2, 1, 2}, Data: []float64{1, -2, 3, -4}},
	)
}

func TestRoundTrip(t *testing.T) {
	vars := append(allClasses(),
		pattern("mask", ClassUint8, 800, 600, func(r, c int) float64 { return float64((r*7 + c*13) % 256) }),
		pattern("depth", ClassDouble, 800, 600, func(r, c int) float64 { return float64(r)*0.5 - float64(c)*1.25 }),
	)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, vars, compress); err != nil {
				t.Fatal(err)
			}
			got := mustRead(t, buf.Bytes())
			if len(got) != len(vars) {
				t.Fatalf("got %d variables, want %d", len(got), len(vars))
			}
			for i := range vars {
				if !reflect.DeepEqual(got[i], vars[i]) {
					t.Errorf("variable %d: got %+v, want %+v", i, summary(got[i]), summary(vars[i]))
				}
			}
			mask := got[len(got)-2]
			if v := mask.At(799, 599); v != float64((799*7+599*13)%256) {
				t.Errorf("mask.At(799,599) = %v", v)
			}
			px, err := mask.RowMajorUint8()
			if err != nil {
				t.Fatal(err)
			}
			if px[10*600+20] != byte((10*7+20*13)%256) {
				t.Errorf("row-major pixel (10,20) = %d", px[10*600+20])
			}
		})
	}
}

func summary(m *Matrix) string {
	if len(m.Data) > 8 {
		return fmt.Sprintf("{%s %v %v %v...}", m.Name, m.Class, m.Dims, m.Data[:8])
	}
	return fmt.Sprintf("%+v", *m)
}

func TestWriteRejects(t *testing.T) {
	bad := []*Matrix{
		{Name: "short", Class: ClassUint8, Dims: []int{2, 2}, Data: []float64{1, 2, 3}},
		{Name: "frac", Class: ClassUint8, Dims: []int{1, 1}, Data: []float64{1.5}},
		{Name: "big", Class: ClassUint8, Dims: []int{1, 1}, Data: []float64{256}},
		{Name: "neg", Class: ClassUint16, Dims: []int{1, 1}, Data: []float64{-1}},
		{Name: "nan", Class: ClassInt32, Dims: []int{1, 1}, Data: []float64{math.NaN()}},
		{Name: "u64", Class: ClassUint64, Dims: []int{1, 1}, Data: []float64{1 << 64}},
		{Name: "oned", Class: ClassDouble, Dims: []int{3}, Data: []float64{1, 2, 3}},
		{Name: "char", Class: 4, Dims: []int{1, 1}, Data: []float64{65}},
		{Name: "lgc", Class: ClassDouble, Dims: []int{1, 1}, Data: []float64{1}, Logical: true},
	}
	for _, m := range bad {
		if err := Write(io.Discard, []*Matrix{m}, false); err == nil {
			t.Errorf("Write(%s) succeeded, want error", m.Name)
		}
	}
}

func TestRowMajorUint8Rejects(t *testing.T) {
	for _, m := range []*Matrix{
		{Name: "frac", Dims: []int{1, 2}, Data: []float64{1, 0.5}},
		{Name: "neg", Dims: []int{1, 1}, Data: []float64{-1}},
		{Name: "big", Dims: []int{1, 1}, Data: []float64{256}},
		{Name: "nan", Dims: []int{1, 1}, Data: []float64{math.NaN()}},
		{Name: "3d", Dims: []int{1, 1, 1}, Data: []float64{1}},
		{Name: "short", Dims: []int{2, 2}, Data: []float64{1}},
	} {
		if _, err := m.RowMajorUint8(); err == nil {
			t.Errorf("RowMajorUint8(%s) succeeded, want error", m.Name)
		}
	}
}

// toBigEndian rewrites an uncompressed little-endian MAT-file as the
// big-endian file MATLAB would write on a big-endian machine.
func toBigEndian(t *testing.T, le []byte) []byte {
	t.Helper()
	b := bytes.Clone(le)
	binary.BigEndian.PutUint64(b[116:], binary.LittleEndian.Uint64(le[116:]))
	binary.BigEndian.PutUint16(b[124:], binary.LittleEndian.Uint16(le[124:]))
	copy(b[126:], "MI")
	swapElements(t, b[128:])
	return b
}

func swapElements(t *testing.T, b []byte) {
	for pos := 0; pos < len(b); {
		w := binary.LittleEndian.Uint32(b[pos:])
		binary.BigEndian.PutUint32(b[pos:], w)
		if n := int(w >> 16); n != 0 { // small element
			swapData(t, w&0xffff, b[pos+4:pos+4+n])
			pos += 8
			continue
		}
		n := int(binary.LittleEndian.Uint32(b[pos+4:]))
		binary.BigEndian.PutUint32(b[pos+4:], uint32(n))
		data := b[pos+8 : pos+8+n]
		if w == miMATRIX {
			swapElements(t, data)
		} else {
			swapData(t, w, data)
		}
		pos += 8 + (n+7)/8*8
	}
}

func swapData(t *testing.T, typ uint32, b []byte) {
	size := map[uint32]int{miINT8: 1, miUINT8: 1, miINT16: 2, miUINT16: 2, miINT32: 4,
		miUINT32: 4, miSINGLE: 4, miDOUBLE: 8, miINT64: 8, miUINT64: 8}[typ]
	if size == 0 {
		t.Fatalf("swapData: cannot swap type %d", typ)
	}
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}

func TestBigEndian(t *testing.T) {
	var written bytes.Buffer
	if err := Write(&written, allClasses(), false); err != nil {
		t.Fatal(err)
	}
	for name, le := range map[string][]byte{
		"handMade":        handMade(),
		"handMadeComplex": handMadeComplex(),
		"allClasses":      written.Bytes(),
	} {
		t.Run(name, func(t *testing.T) {
			be := toBigEndian(t, le)
			if string(be[126:128]) != "MI" || bytes.Equal(be, le) {
				t.Fatal("helper did not produce a big-endian file")
			}
			want, got := mustRead(t, le), mustRead(t, be)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("big-endian read %s, little-endian %s", dump(got), dump(want))
			}
		})
	}
	// Spot-check the decoded values directly too.
	m := mustRead(t, toBigEndian(t, handMade()))[0]
	if m.At(1, 2) != 6 || m.At(0, 1) != 2 || !reflect.DeepEqual(m.Dims, []int{2, 3}) {
		t.Errorf("big-endian handMade: %+v", *m)
	}
}

// boundaries returns the offsets at which a top-level element ends: cutting
// a file there leaves a shorter valid file.
func boundaries(b []byte) map[int]bool {
	ends := map[int]bool{128: true}
	for pos := 128; pos+8 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[pos:])
		n := int(binary.LittleEndian.Uint32(b[pos+4:]))
		pos += 8 + n
		if typ != miCOMPRESSED {
			pos = (pos + 7) / 8 * 8
		}
		ends[pos] = true
	}
	return ends
}

func fixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{"handMade": handMade(), "handMadeComplex": handMadeComplex()}
	for _, c := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, allClasses(), c); err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprint("allClasses compress=", c)] = buf.Bytes()
	}
	names, err := filepath.Glob("testdata/*.mat")
	if err != nil || len(names) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

func TestTruncated(t *testing.T) {
	for name, b := range fixtures(t) {
		full := len(mustRead(t, b))
		ends := boundaries(b)
		for n := range len(b) {
			ms, err := Read(bytes.NewReader(b[:n]))
			if err == nil {
				if !ends[n] || len(ms) >= full {
					t.Errorf("%s cut to %d bytes: no error, %d variables", name, n, len(ms))
				}
				continue
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrFormat) {
				t.Errorf("%s cut to %d bytes: error %q wraps neither io.ErrUnexpectedEOF nor ErrFormat", name, n, err)
			}
		}
	}
}

// TestCorrupt overwrites each byte of each fixture in turn; Read may succeed
// or fail but must not panic.
func TestCorrupt(t *testing.T) {
	for _, b := range fixtures(t) {
		for i := range b {
			for _, v := range []byte{0x00, 0xff, b[i] ^ 0x80} {
				c := bytes.Clone(b)
				c[i] = v
				Read(bytes.NewReader(c)) //nolint:errcheck // only panics matter here
			}
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	b := handMade()
	v73 := bytes.Clone(b)
	v73[124], v73[125] = 0x00, 0x02 // MAT v7.3 (HDF5) carries version 0x0200
	if _, err := Read(bytes.NewReader(v73)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("v7.3 header: got %v, want ErrUnsupported", err)
	}
	noEndian := bytes.Clone(b)
	copy(noEndian[126:], "XX")
	if _, err := Read(bytes.NewReader(noEndian)); !errors.Is(err, ErrFormat) {
		t.Errorf("bad endian indicator: got %v, want ErrFormat", err)
	}
	badVersion := bytes.Clone(b)
	badVersion[124] = 0x07
	if _, err := Read(bytes.NewReader(badVersion)); !errors.Is(err, ErrFormat) {
		t.Errorf("bad version: got %v, want ErrFormat", err)
	}
	if _, err := ReadFile(filepath.Join("testdata", "missing.mat")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	// A header alone is a valid file with no variables.
	if ms, err := Read(bytes.NewReader(header())); err != nil || len(ms) != 0 {
		t.Errorf("header only: %v, %v", ms, err)
	}
}

// TestSubsystemSkipped checks that the element at the header's subsystem
// offset (object metadata MATLAB stores as a nameless uint8 array) is not
// returned as a variable.
func TestSubsystemSkipped(t *testing.T) {
	first := &Matrix{Name: "a", Class: ClassDouble, Dims: []int{1, 1}, Data: []float64{2}}
	sub := &Matrix{Class: ClassUint8, Dims: []int{1, 4}, Data: []float64{0, 1, 73, 77}}
	var one, two bytes.Buffer
	if err := Write(&one, []*Matrix{first}, false); err != nil {
		t.Fatal(err)
	}
	if err := Write(&two, []*Matrix{first, sub}, false); err != nil {
		t.Fatal(err)
	}
	b := two.Bytes()
	if n := len(mustRead(t, b)); n != 2 {
		t.Fatalf("without subsystem offset: %d variables, want 2", n)
	}
	binary.LittleEndian.PutUint64(b[116:], uint64(one.Len()))
	ms := mustRead(t, b)
	if len(ms) != 1 || ms[0].Name != "a" || ms[0].Data[0] != 2 {
		t.Errorf("with subsystem offset: got %s", dump(ms))
	}
}

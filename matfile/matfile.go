// Package matfile reads numeric variables from MATLAB Level 5 MAT-files
// (the format MATLAB's save writes by default up to -v7), and writes small
// ones for test fixtures.
//
// segtool needs it for the PFCN EG1800 portrait dataset, whose masks
// (images_mask/NNNNN_mask.mat) and train/test splits (trainlist.mat,
// testlist.mat) are MAT-files holding one numeric matrix each. Only numeric
// matrices are returned; cell, struct, object, char and sparse variables are
// skipped, as are imaginary parts.
//
// Format facts relied on, from MathWorks' "MAT-File Format" document
// (Level 5 MAT-File Format section):
//   - A 128-byte header: 116 bytes of text, an 8-byte subsystem data offset,
//     a 2-byte version (0x0100) and a 2-byte endian indicator. The writer
//     stores the characters 'M','I' as one native 16-bit word, so the bytes
//     read "IM" in a little-endian file and "MI" in a big-endian one; every
//     later number uses that byte order.
//   - Then a sequence of data elements: an 8-byte tag (32-bit type, 32-bit
//     byte count) and data padded to an 8-byte boundary. In the "small data
//     element" form, used for at most 4 bytes of data, the first tag word
//     holds the byte count in its upper 16 bits and the type in its lower
//     16 bits, and the data sits in the tag's second word.
//   - A variable is an miMATRIX element whose subelements are the array
//     flags (class in the low byte, complex/global/logical bits above it),
//     the dimensions (int32, at least two), the name, and the real and
//     optional imaginary parts. The parts may use a smaller storage type than
//     the class (MATLAB saves a double matrix of small integers as miUINT8),
//     so values are converted on read.
//   - An miCOMPRESSED element holds one zlib-compressed element (normally an
//     miMATRIX); it is not padded, so the next element starts right after
//     its byte count.
//   - Data is column-major. Logical arrays are class uint8 with the logical
//     flag set.
//
// MAT v7.3 files are HDF5 and Level 4 files have no such header; both are
// rejected with an error wrapping [errors.ErrUnsupported].
package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFormat is wrapped by errors describing malformed MAT-file content.
// Truncated input wraps [io.ErrUnexpectedEOF] instead.
var ErrFormat = errors.New("malformed MAT-file")

// Class is a MATLAB array class (mxClassID) as stored in the array flags.
type Class uint8

// Numeric classes; the values are the on-disk mxClass codes.
const (
	ClassDouble Class = 6
	ClassSingle Class = 7
	ClassInt8   Class = 8
	ClassUint8  Class = 9
	ClassInt16  Class = 10
	ClassUint16 Class = 11
	ClassInt32  Class = 12
	ClassUint32 Class = 13
	ClassInt64  Class = 14
	ClassUint64 Class = 15
)

var classNames = [...]string{
	1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse",
	6: "double", 7: "single", 8: "int8", 9: "uint8", 10: "int16",
	11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64",
}

// String returns MATLAB's name for the class, e.g. "uint8".
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

func (c Class) numeric() bool { return c >= ClassDouble && c <= ClassUint64 }

// Data element types (miINT8 ...).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF32      = 18 // highest defined type
)

// Array flag bits, within the first flags word.
const (
	flagComplex = 0x0800
	flagLogical = 0x0200
)

const headerLen = 128

// Matrix is one numeric variable.
type Matrix struct {
	Name  string
	Class Class
	// Dims are the dimensions as MATLAB stores them, e.g. [rows, cols].
	Dims []int
	// Data is the real part in column-major order, as on disk. int64 and
	// uint64 values beyond 2^53 lose precision.
	Data    []float64
	Logical bool
}

// Rows returns Dims[0], or 0 if there are no dimensions.
func (m *Matrix) Rows() int {
	if len(m.Dims) < 1 {
		return 0
	}
	return m.Dims[0]
}

// Cols returns Dims[1], or 0 if there are fewer than two dimensions.
func (m *Matrix) Cols() int {
	if len(m.Dims) < 2 {
		return 0
	}
	return m.Dims[1]
}

// At returns element (r, c) of a 2-D matrix (column-major: Data[c*rows+r]).
// Like slice indexing, it panics if m is not 2-D or (r, c) is out of range.
func (m *Matrix) At(r, c int) float64 {
	if len(m.Dims) != 2 {
		panic(fmt.Sprintf("matfile: At on %d-D matrix %q", len(m.Dims), m.Name))
	}
	rows, cols := m.Dims[0], m.Dims[1]
	if r < 0 || r >= rows || c < 0 || c >= cols {
		panic(fmt.Sprintf("matfile: At(%d, %d) out of range for %dx%d matrix %q", r, c, rows, cols, m.Name))
	}
	return m.Data[c*rows+r]
}

// RowMajorUint8 returns the 2-D matrix as rows*cols bytes in row-major
// order, the layout of an image plane. It fails if the matrix is not 2-D or
// a value is not an integer in 0..255.
func (m *Matrix) RowMajorUint8() ([]byte, error) {
	if len(m.Dims) != 2 {
		return nil, fmt.Errorf("matfile: variable %q has %d dimensions, want 2", m.Name, len(m.Dims))
	}
	rows, cols := m.Dims[0], m.Dims[1]
	if rows < 0 || cols < 0 || (cols != 0 && rows > len(m.Data)/cols) || rows*cols != len(m.Data) {
		return nil, fmt.Errorf("matfile: variable %q is %dx%d but has %d values", m.Name, rows, cols, len(m.Data))
	}
	out := make([]byte, rows*cols)
	for c := 0; c < cols; c++ {
		for r := 0; r < rows; r++ {
			v := m.Data[c*rows+r]
			if !(v >= 0 && v <= 255) || v != math.Trunc(v) {
				return nil, fmt.Errorf("matfile: variable %q value %v at (%d, %d) does not fit in uint8", m.Name, v, r, c)
			}
			out[r*cols+c] = byte(v)
		}
	}
	return out, nil
}

// ReadFile reads all numeric matrix variables from the MAT-file at path.
func ReadFile(path string) ([]*Matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("matfile: %w", err)
	}
	ms, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("matfile: %s: %w", path, err)
	}
	return ms, nil
}

// Read reads all numeric matrix variables, in file order. A file with a
// header and no variables is valid and yields none.
func Read(r io.Reader) ([]*Matrix, error) {
	// Masks and split lists are small; holding the file lets every length
	// be checked against what is really there before anything is allocated.
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("matfile: reading: %w", err)
	}
	ms, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("matfile: %w", err)
	}
	return ms, nil
}

type decoder struct {
	order binary.ByteOrder
}

func parse(b []byte) ([]*Matrix, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("header: have %d bytes, need %d: %w", len(b), headerLen, io.ErrUnexpectedEOF)
	}
	var d decoder
	switch string(b[126:128]) {
	case "IM":
		d.order = binary.LittleEndian
	case "MI":
		d.order = binary.BigEndian
	default:
		if bytes.IndexByte(b[:4], 0) >= 0 {
			// The spec's own test: a zero in the first 4 bytes means Level 4.
			return nil, fmt.Errorf("no endian indicator; looks like a Level 4 MAT-file: %w", errors.ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: endian indicator is %q, want \"IM\" or \"MI\"", ErrFormat, b[126:128])
	}
	switch v := d.order.Uint16(b[124:126]); v {
	case 0x0100:
	case 0x0200:
		return nil, fmt.Errorf("MAT v7.3 (HDF5) file; re-save with -v7: %w", errors.ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: header version %#04x, want 0x0100", ErrFormat, v)
	}
	// The subsystem data (class info for objects) is stored as a nameless
	// uint8 miMATRIX; it is not a user variable.
	subsys := d.order.Uint64(b[116:124])
	if subsys == 0x2020202020202020 {
		subsys = 0
	}

	var out []*Matrix
	for pos := headerLen; pos < len(b); {
		start := pos
		typ, data, next, err := d.element(b, pos)
		if err != nil {
			return nil, fmt.Errorf("element at offset %d: %w", start, err)
		}
		pos = next
		if subsys != 0 && uint64(start) == subsys {
			continue
		}
		switch typ {
		case miCOMPRESSED:
			// Compressed elements are not padded.
			pos = start + 8 + len(data)
			typ, data, err = d.inflate(data)
			if err != nil {
				return nil, fmt.Errorf("element at offset %d: %w", start, err)
			}
			if typ != miMATRIX {
				continue
			}
		case miMATRIX:
		default:
			continue
		}
		m, err := d.matrix(data)
		if err != nil {
			return nil, fmt.Errorf("variable at offset %d: %w", start, err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// element decodes the data element at b[pos:], returning its type, its data
// and the offset just past it and its padding.
func (d decoder) element(b []byte, pos int) (typ uint32, data []byte, next int, err error) {
	if len(b)-pos < 8 {
		return 0, nil, 0, fmt.Errorf("tag: have %d bytes, need 8: %w", len(b)-pos, io.ErrUnexpectedEOF)
	}
	w := d.order.Uint32(b[pos:])
	if n := w >> 16; n != 0 {
		// Small data element: count and type share the first word.
		typ = w & 0xffff
		if n > 4 {
			return 0, nil, 0, fmt.Errorf("%w: small data element claims %d bytes, max 4", ErrFormat, n)
		}
		if typ == 0 || typ > miUTF32 {
			return 0, nil, 0, fmt.Errorf("%w: unknown data type %d", ErrFormat, typ)
		}
		return typ, b[pos+4 : pos+4+int(n)], pos + 8, nil
	}
	typ = w
	if typ == 0 || typ > miUTF32 {
		return 0, nil, 0, fmt.Errorf("%w: unknown data type %d", ErrFormat, typ)
	}
	n := d.order.Uint32(b[pos+4:])
	if uint64(n) > uint64(len(b)-pos-8) {
		return 0, nil, 0, fmt.Errorf("type %d claims %d bytes, %d remain: %w", typ, n, len(b)-pos-8, io.ErrUnexpectedEOF)
	}
	end := pos + 8 + int(n)
	// Padding may be cut short at the end of a buffer; the byte count
	// already proved the data itself is all there.
	next = min(end+(8-int(n)%8)%8, len(b))
	return typ, b[pos+8 : end], next, nil
}

// inflate decompresses an miCOMPRESSED payload and returns the single
// element inside it.
func (d decoder) inflate(z []byte) (typ uint32, data []byte, err error) {
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return 0, nil, fmt.Errorf("miCOMPRESSED: %w", err)
	}
	defer zr.Close()
	var tag [8]byte
	if _, err := io.ReadFull(zr, tag[:]); err != nil {
		return 0, nil, fmt.Errorf("miCOMPRESSED: inner tag: %w", noEOF(err))
	}
	var want uint64 // bytes after the tag
	if w := d.order.Uint32(tag[:]); w>>16 == 0 {
		want = uint64(d.order.Uint32(tag[4:]))
	}
	// Read at most the inner element plus 7 bytes of padding, so a corrupt
	// stream cannot inflate past what its tag promises; reaching the end of
	// the stream also makes zlib verify its checksum.
	rest, err := io.ReadAll(io.LimitReader(zr, int64(want)+8))
	if err != nil {
		return 0, nil, fmt.Errorf("miCOMPRESSED: %w", noEOF(err))
	}
	if uint64(len(rest)) >= want+8 {
		return 0, nil, fmt.Errorf("%w: miCOMPRESSED inflates past its inner element (%d bytes)", ErrFormat, want+8)
	}
	buf := append(tag[:], rest...)
	typ, data, _, err = d.element(buf, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("miCOMPRESSED: %w", err)
	}
	return typ, data, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: an element ending early is
// truncation, not a clean end.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// matrix decodes an miMATRIX payload. It returns nil, nil for classes this
// package skips.
func (d decoder) matrix(b []byte) (*Matrix, error) {
	if len(b) == 0 {
		return nil, nil // MATLAB writes empty miMATRIX elements for [] in cells.
	}
	typ, data, pos, err := d.element(b, 0)
	if err != nil {
		return nil, fmt.Errorf("array flags: %w", err)
	}
	if typ != miUINT32 || len(data) != 8 {
		return nil, fmt.Errorf("%w: array flags are %d bytes of type %d, want 8 of miUINT32", ErrFormat, len(data), typ)
	}
	flags := d.order.Uint32(data)
	class := Class(flags & 0xff)
	if !class.numeric() {
		return nil, nil
	}
	m := &Matrix{Class: class, Logical: flags&flagLogical != 0}

	typ, data, pos, err = d.element(b, pos)
	if err != nil {
		return nil, fmt.Errorf("dimensions: %w", err)
	}
	if typ != miINT32 || len(data)%4 != 0 || len(data) < 8 {
		return nil, fmt.Errorf("%w: dimensions are %d bytes of type %d, want at least two miINT32", ErrFormat, len(data), typ)
	}
	m.Dims = make([]int, len(data)/4)
	for i := range m.Dims {
		v := int32(d.order.Uint32(data[4*i:]))
		if v < 0 {
			return nil, fmt.Errorf("%w: negative dimension %d", ErrFormat, v)
		}
		m.Dims[i] = int(v)
	}

	typ, data, pos, err = d.element(b, pos)
	if err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	if typ != miINT8 && typ != miUINT8 && typ != miUTF8 {
		return nil, fmt.Errorf("%w: name has type %d, want miINT8", ErrFormat, typ)
	}
	m.Name = string(data)

	typ, data, _, err = d.element(b, pos)
	if err != nil {
		return nil, fmt.Errorf("%q real part: %w", m.Name, err)
	}
	// Any imaginary part (flagComplex) follows; it is deliberately unread.
	if m.Data, err = d.numbers(typ, data); err != nil {
		return nil, fmt.Errorf("%q real part: %w", m.Name, err)
	}
	n := 1
	for _, dim := range m.Dims {
		if dim != 0 && n > len(m.Data)/dim {
			n = -1 // more elements than values, and maybe overflow
			break
		}
		n *= dim
	}
	if n != len(m.Data) {
		return nil, fmt.Errorf("%w: %q has dimensions %v but %d values", ErrFormat, m.Name, m.Dims, len(m.Data))
	}
	return m, nil
}

// numbers converts numeric element data of any storage type to float64.
func (d decoder) numbers(typ uint32, b []byte) ([]float64, error) {
	size := typeSize(typ)
	if size == 0 {
		return nil, fmt.Errorf("%w: data type %d is not numeric", ErrFormat, typ)
	}
	if len(b)%size != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte values", ErrFormat, len(b), size)
	}
	out := make([]float64, len(b)/size)
	o := d.order
	for i := range out {
		p := b[i*size:]
		var v float64
		switch typ {
		case miINT8:
			v = float64(int8(p[0]))
		case miUINT8:
			v = float64(p[0])
		case miINT16:
			v = float64(int16(o.Uint16(p)))
		case miUINT16:
			v = float64(o.Uint16(p))
		case miINT32:
			v = float64(int32(o.Uint32(p)))
		case miUINT32:
			v = float64(o.Uint32(p))
		case miSINGLE:
			v = float64(math.Float32frombits(o.Uint32(p)))
		case miDOUBLE:
			v = math.Float64frombits(o.Uint64(p))
		case miINT64:
			v = float64(int64(o.Uint64(p)))
		case miUINT64:
			v = float64(o.Uint64(p))
		}
		out[i] = v
	}
	return out, nil
}

// typeSize returns the byte size of a numeric data type, or 0.
func typeSize(typ uint32) int {
	switch typ {
	case miINT8, miUINT8:
		return 1
	case miINT16, miUINT16:
		return 2
	case miINT32, miUINT32, miSINGLE:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

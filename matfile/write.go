package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// storage describes how a class's values are written: the element type and
// the half-open range of values it holds exactly.
type storage struct {
	typ      uint32
	size     int
	signed   bool
	lo, hiEx float64
}

var storages = map[Class]storage{
	ClassDouble: {typ: miDOUBLE, size: 8},
	ClassSingle: {typ: miSINGLE, size: 4},
	ClassInt8:   {miINT8, 1, true, math.MinInt8, math.MaxInt8 + 1},
	ClassUint8:  {miUINT8, 1, false, 0, math.MaxUint8 + 1},
	ClassInt16:  {miINT16, 2, true, math.MinInt16, math.MaxInt16 + 1},
	ClassUint16: {miUINT16, 2, false, 0, math.MaxUint16 + 1},
	ClassInt32:  {miINT32, 4, true, math.MinInt32, math.MaxInt32 + 1},
	ClassUint32: {miUINT32, 4, false, 0, math.MaxUint32 + 1},
	ClassInt64:  {miINT64, 8, true, math.MinInt64, 1 << 63},
	ClassUint64: {miUINT64, 8, false, 0, 1 << 64},
}

// Write writes vars as a little-endian Level 5 MAT-file, each variable as
// its own (optionally zlib-compressed) miMATRIX element. Values are stored
// in their class's own type; integer classes must hold integers in range.
// It exists to build test fixtures, so the header carries no date and the
// output is deterministic.
func Write(w io.Writer, vars []*Matrix, compress bool) error {
	var buf bytes.Buffer
	head := []byte(fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, Platform: Go, Created by: segtool matfile"))
	buf.Write(head[:116])
	buf.Write(make([]byte, 8)) // no subsystem data
	buf.Write([]byte{0x00, 0x01, 'I', 'M'})
	for i, m := range vars {
		if m == nil {
			return fmt.Errorf("matfile: variable %d is nil", i)
		}
		el, err := encodeMatrix(m)
		if err != nil {
			return fmt.Errorf("matfile: variable %d (%q): %w", i, m.Name, err)
		}
		if !compress {
			buf.Write(el)
			continue
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(el) // writes to a bytes.Buffer cannot fail
		if err := zw.Close(); err != nil {
			return fmt.Errorf("matfile: variable %d (%q): compressing: %w", i, m.Name, err)
		}
		if uint64(z.Len()) > math.MaxUint32 {
			return fmt.Errorf("matfile: variable %d (%q) is too large for a Level 5 file", i, m.Name)
		}
		putTag(&buf, miCOMPRESSED, z.Len())
		buf.Write(z.Bytes()) // compressed elements are not padded
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("matfile: writing: %w", err)
	}
	return nil
}

// encodeMatrix returns the complete miMATRIX element for m.
func encodeMatrix(m *Matrix) ([]byte, error) {
	st, ok := storages[m.Class]
	if !ok {
		return nil, fmt.Errorf("cannot write class %v", m.Class)
	}
	if m.Logical && m.Class != ClassUint8 {
		return nil, errors.New("logical arrays must have class uint8")
	}
	if len(m.Dims) < 2 {
		return nil, fmt.Errorf("need at least 2 dimensions, have %v", m.Dims)
	}
	n := 1
	for _, d := range m.Dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d out of range", d)
		}
		if d != 0 && n > len(m.Data)/d {
			n = -1
			break
		}
		n *= d
	}
	if n != len(m.Data) {
		return nil, fmt.Errorf("dimensions %v do not match %d values", m.Dims, len(m.Data))
	}

	le := binary.LittleEndian
	var body bytes.Buffer
	flags := make([]byte, 8)
	f := uint32(m.Class)
	if m.Logical {
		f |= flagLogical
	}
	le.PutUint32(flags, f)
	putElement(&body, miUINT32, flags)

	dims := make([]byte, 4*len(m.Dims))
	for i, d := range m.Dims {
		le.PutUint32(dims[4*i:], uint32(d))
	}
	putElement(&body, miINT32, dims)
	putElement(&body, miINT8, []byte(m.Name))

	data := make([]byte, st.size*len(m.Data))
	for i, v := range m.Data {
		p := data[i*st.size:]
		switch {
		case st.typ == miDOUBLE:
			le.PutUint64(p, math.Float64bits(v))
		case st.typ == miSINGLE:
			le.PutUint32(p, math.Float32bits(float32(v)))
		default:
			if !(v >= st.lo && v < st.hiEx) || v != math.Trunc(v) {
				return nil, fmt.Errorf("value %v at index %d does not fit in %v", v, i, m.Class)
			}
			var x uint64
			if st.signed {
				x = uint64(int64(v)) // two's complement; truncated below
			} else {
				x = uint64(v)
			}
			switch st.size {
			case 1:
				p[0] = byte(x)
			case 2:
				le.PutUint16(p, uint16(x))
			case 4:
				le.PutUint32(p, uint32(x))
			case 8:
				le.PutUint64(p, x)
			}
		}
	}
	putElement(&body, st.typ, data)

	if uint64(body.Len()) > math.MaxUint32 {
		return nil, errors.New("too large for a Level 5 file")
	}
	var el bytes.Buffer
	putTag(&el, miMATRIX, body.Len())
	el.Write(body.Bytes())
	return el.Bytes(), nil
}

func putTag(b *bytes.Buffer, typ uint32, n int) {
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:], typ)
	binary.LittleEndian.PutUint32(t[4:], uint32(n))
	b.Write(t[:])
}

// putElement writes a padded data element, using the small form for 1 to 4
// bytes as MATLAB does (0 bytes must use the normal form: a zero count in
// the upper half would read as a normal tag).
func putElement(b *bytes.Buffer, typ uint32, data []byte) {
	if n := len(data); n > 0 && n <= 4 {
		var t [8]byte
		binary.LittleEndian.PutUint32(t[:], uint32(n)<<16|typ)
		copy(t[4:], data)
		b.Write(t[:])
		return
	}
	putTag(b, typ, len(data))
	b.Write(data)
	b.Write(make([]byte, (8-len(data)%8)%8))
}

package composite

import (
	"encoding/binary"
	"hash/fnv"
	"math/bits"
)

// stream is a splitmix64 generator. It is written out here rather than taken
// from math/rand so that the same seed gives the same bytes on every Go
// release, and each draw's purpose gets its own stream: switching noise on
// does not move a placement.
type stream struct{ s uint64 }

// newStream seeds a stream from (seed, fg id, composite index, purpose): the
// only inputs a draw may depend on, so results do not depend on which worker
// runs a composite or in what order.
func newStream(seed int64, fgID string, index int, purpose string) *stream {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(int64(index)))
	h.Write(b[:])
	h.Write([]byte(fgID))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	return &stream{s: h.Sum64()}
}

func (r *stream) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1).
func (r *stream) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a uniform value in [0, n); n must be > 0.
func (r *stream) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// norm returns an approximately standard normal value: the centred sum of
// four 16-bit uniforms (Irwin–Hall), one generator call per sample. Its
// tails stop at ±2√3, which is fine for sensor-like noise.
func (r *stream) norm() float32 {
	u := r.next()
	s := (u & 0xffff) + (u >> 16 & 0xffff) + (u >> 32 & 0xffff) + (u >> 48)
	return (float32(s) - 131070) * (1 / 37837.23)
}

package augment

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"

	"gocv.io/x/gocv"
)

// Sample is one image with its labels. Mask, Alpha and Trimap may be empty
// (zero or gocv.NewMat()); present ones must match the image size. Ops
// replace the Mats in place and close the ones they replace.
type Sample struct {
	Image  gocv.Mat // BGR, 8UC3
	Mask   gocv.Mat // 8UC1, 0 or 255
	Alpha  gocv.Mat // 8UC1, 0..255
	Trimap gocv.Mat // 8UC1, 0, 128 or 255
}

// Clone deep-copies s; the clone owns its Mats.
func (s *Sample) Clone() *Sample {
	c := &Sample{Image: cloneMat(&s.Image)}
	c.Mask, c.Alpha, c.Trimap = cloneMat(&s.Mask), cloneMat(&s.Alpha), cloneMat(&s.Trimap)
	return c
}

// Close frees every Mat of s.
func (s *Sample) Close() error {
	for _, m := range s.mats() {
		if !isNil(m) {
			if err := m.Close(); err != nil {
				return fmt.Errorf("augment: close: %w", err)
			}
		}
	}
	return nil
}

func (s *Sample) mats() []*gocv.Mat { return []*gocv.Mat{&s.Image, &s.Mask, &s.Alpha, &s.Trimap} }

// Validate checks types, sizes and continuity (hand loops need the last).
func (s *Sample) Validate() error {
	if !present(&s.Image) {
		return errors.New("augment: sample has no image")
	}
	if s.Image.Type() != gocv.MatTypeCV8UC3 || !s.Image.IsContinuous() {
		return fmt.Errorf("augment: image must be continuous 8UC3, got %v", s.Image.Type())
	}
	rows, cols := s.Image.Rows(), s.Image.Cols()
	for i, m := range []*gocv.Mat{&s.Mask, &s.Alpha, &s.Trimap} {
		if !present(m) {
			continue
		}
		name := [...]string{"mask", "alpha", "trimap"}[i]
		if m.Type() != gocv.MatTypeCV8UC1 || !m.IsContinuous() {
			return fmt.Errorf("augment: %s must be continuous 8UC1, got %v", name, m.Type())
		}
		if m.Rows() != rows || m.Cols() != cols {
			return fmt.Errorf("augment: %s is %dx%d, image %dx%d", name, m.Cols(), m.Rows(), cols, rows)
		}
	}
	return nil
}

// isNil reports whether m is a zero Mat, which gocv cannot query.
func isNil(m *gocv.Mat) bool {
	f := reflect.ValueOf(m).Elem().Field(0)
	return f.Kind() == reflect.UnsafePointer && f.IsNil()
}

func present(m *gocv.Mat) bool { return !isNil(m) && !m.Empty() }

// Present reports whether m holds pixels: a zero Mat and an empty one do
// not. A Sample's optional planes may be either.
func Present(m *gocv.Mat) bool { return present(m) }

func cloneMat(m *gocv.Mat) gocv.Mat {
	if isNil(m) {
		return gocv.NewMat()
	}
	return m.Clone()
}

// replace closes *m and puts n in its place.
func replace(m *gocv.Mat, n gocv.Mat) {
	if !isNil(m) {
		m.Close()
	}
	*m = n
}

// Pipeline is a parsed augmentation config: its top-level ops run in order.
type Pipeline struct {
	Name        string // base name of the file it came from
	Description string
	steps       []step
}

type step struct {
	name string
	op   Op
}

// Apply transforms s in place (call it on s.Clone() for each copy). Every
// random draw comes from a stream seeded by (seed, id, copyIdx) alone, so a
// sample's augmentation does not depend on which worker runs it or when.
// It returns the ops that ran with their drawn parameters. After an error s
// is still safe to Close.
func (p *Pipeline) Apply(s *Sample, seed int64, id string, copyIdx int) ([]Applied, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := NewRand(seed, id, copyIdx)
	log := []Applied{}
	for _, st := range p.steps {
		var err error
		if log, err = st.op.Apply(s, rng, log); err != nil {
			return log, err
		}
	}
	return log, nil
}

// Ops returns the names of the top-level ops, in order.
func (p *Pipeline) Ops() []string {
	names := make([]string, len(p.steps))
	for i, st := range p.steps {
		names[i] = st.name
	}
	return names
}

// NewRand returns the random stream for (seed, id, copyIdx): a PCG seeded
// from a SHA-256 of the three, so nearby seeds or ids give unrelated streams.
func NewRand(seed int64, id string, copyIdx int) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(strconv.Itoa(copyIdx) + "\x00" + id))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

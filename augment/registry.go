package augment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Op transforms a sample in place. It draws everything random from rng (so
// results depend only on the stream it is handed), appends what it did to
// log and returns log. Ops are immutable once built and safe for concurrent
// use on different samples.
type Op interface {
	Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error)
}

// Applied records one op that ran and the parameters it drew, for the
// manifest. Params values are float64, int, bool, string or slices of them.
type Applied struct {
	Op     string         `json:"op"`
	Params map[string]any `json:"params,omitempty"`
}

// Constructor builds an op from its YAML parameters. It reads each
// parameter through a's typed getters; whatever it does not read is
// reported as unknown.
type Constructor func(a *Args) (Op, error)

// Registry maps op names to constructors.
type Registry struct {
	ctors map[string]Constructor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{ctors: map[string]Constructor{}} }

// DefaultRegistry returns a registry holding every built-in op.
func DefaultRegistry() *Registry {
	r := NewRegistry()
	for name, c := range map[string]Constructor{
		// photometric.go
		"add":             newAdd,
		"add_elementwise": newAddElementwise,
		"gaussian_noise":  newGaussianNoise,
		"brightness_hsv":  newBrightnessHSV,
		"hue_saturation":  newHueSaturation,
		"gamma":           newGamma,
		"contrast":        newContrast,
		"jpeg_quality":    newJPEGQuality,
		"mean_blur":       newMeanBlur,
		"median_blur":     newMedianBlur,
		"gaussian_blur":   newGaussianBlur,
		"occlusion":       newOcclusion,
		// geometric.go
		"fliplr":      newFlipLR,
		"flipud":      newFlipUD,
		"affine":      newAffine,
		"rotate":      newRotate,
		"random_crop": newRandomCrop,
		"resize":      newResize,
		"pad_to":      newPadTo,
		// combinators.go
		"sequential": newSequential,
		"one_of":     newOneOf,
		"some_of":    newSomeOf,
		"sometimes":  newSometimes,
	} {
		r.ctors[name] = c
	}
	return r
}

// Register adds or replaces the constructor for name.
func (r *Registry) Register(name string, c Constructor) { r.ctors[name] = c }

// Names returns the registered op names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.ctors))
	for n := range r.ctors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// build runs name's constructor on a and wraps the op with its probability
// p (default 1) unless the constructor read p itself.
func (r *Registry) build(name string, a *Args) (Op, error) {
	c, ok := r.ctors[name]
	if !ok {
		return nil, a.errorf(a.line, "%w (known: %s)", ErrUnknownOp, strings.Join(r.Names(), ", "))
	}
	op, err := c(a)
	if err != nil {
		// Constructors from elsewhere may return plain errors: locate them.
		var ce *ConfigError
		if !errors.As(err, &ce) {
			err = a.errorf(a.line, "%w", err)
		}
		return nil, err
	}
	if !a.used["p"] {
		p, err := a.Prob("p", 1)
		if err != nil {
			return nil, err
		}
		op = maybe(op, p)
	}
	if err := a.unused(); err != nil {
		return nil, err
	}
	return op, nil
}

// withProb applies op with probability p.
type withProb struct {
	p  float64
	op Op
}

func maybe(op Op, p float64) Op {
	if p >= 1 {
		return op
	}
	return withProb{p, op}
}

func (w withProb) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	if rng.Float64() >= w.p {
		return log, nil
	}
	return w.op.Apply(s, rng, log)
}

// applyErr names the op in an error from OpenCV or a malformed sample.
func applyErr(op string, err error) error { return fmt.Errorf("augment: %s: %w", op, err) }

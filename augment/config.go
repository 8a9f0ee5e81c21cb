package augment

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/segtool/segtool/internal/safeyaml"
)

// Kinds of configuration error, for errors.Is.
var (
	ErrUnknownOp      = errors.New("unknown op")
	ErrUnknownParam   = errors.New("unknown parameter")
	ErrBadRange       = errors.New("bad range")
	ErrBadKernel      = errors.New("bad kernel")
	ErrBadProbability = errors.New("probability outside [0, 1]")
	ErrBadValue       = errors.New("bad value")
	ErrSyntax         = errors.New("YAML syntax")
)

// ConfigError locates a problem in a pipeline file.
type ConfigError struct {
	File string
	Line int
	Op   string // empty for problems outside any op
	Err  error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Op != "" {
		fmt.Fprintf(&b, ": op %q", e.Op)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadFile reads and parses a pipeline file with the default registry.
func LoadFile(path string) (*Pipeline, error) { return DefaultRegistry().LoadFile(path) }

// Parse parses a pipeline with the default registry; name is used in error
// messages. Parsing validates everything, so it doubles as a config check.
func Parse(name string, data []byte) (*Pipeline, error) { return DefaultRegistry().Parse(name, data) }

// LoadFile reads and parses a pipeline file.
func (r *Registry) LoadFile(path string) (*Pipeline, error) {
	data, err := safeyaml.ReadFile(path)
	if errors.Is(err, safeyaml.ErrTooLarge) {
		return nil, &ConfigError{File: path, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("augment: %w", err)
	}
	return r.Parse(path, data)
}

// Parse parses a pipeline document:
//
//	description: free text
//	ops:
//	  - fliplr: {p: 0.5}
//	  - gaussian_blur: {sigma: [0, 1.5]}
//
// Each entry of ops is an op name alone or a one-key mapping from the name
// to its parameters. Anchors and aliases are refused, and so is a
// document over safeyaml.MaxBytes.
func (r *Registry) Parse(name string, data []byte) (*Pipeline, error) {
	doc, err := safeyaml.Parse(data)
	var le *safeyaml.LineError
	switch {
	case errors.As(err, &le):
		return nil, &ConfigError{File: name, Line: le.Line, Err: le.Err}
	case errors.Is(err, safeyaml.ErrTooLarge):
		return nil, &ConfigError{File: name, Err: err}
	case err != nil:
		// Reshape "yaml: line N: msg" into file:N: msg like the others.
		var line int
		var msg string
		if n, _ := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); n == 1 {
			_, msg, _ = strings.Cut(err.Error(), ": ")
			_, msg, _ = strings.Cut(msg, ": ")
			return nil, &ConfigError{File: name, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
		}
		return nil, &ConfigError{File: name, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	topErr := func(line int, format string, a ...any) error {
		return &ConfigError{File: name, Line: line, Err: fmt.Errorf(format, a...)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, topErr(0, "%w: empty document", ErrBadValue)
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, topErr(root.Line, "%w: expected a mapping with an ops list", ErrBadValue)
	}
	p := &Pipeline{Name: filepath.Base(name)}
	var ops *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		switch k.Value {
		case "description":
			if v.Kind != yaml.ScalarNode {
				return nil, topErr(v.Line, "%w: description must be text", ErrBadValue)
			}
			p.Description = v.Value
		case "ops":
			ops = v
		default:
			return nil, topErr(k.Line, "%w %q at top level (want description, ops)", ErrUnknownParam, k.Value)
		}
	}
	if ops == nil {
		return nil, topErr(root.Line, "%w: no ops list", ErrBadValue)
	}
	steps, err := r.parseOps(name, ops, "")
	if err != nil {
		return nil, err
	}
	for i, op := range steps {
		p.steps = append(p.steps, step{name: opName(resolve(ops.Content[i])), op: op})
	}
	return p, nil
}

// parseOps parses a list of op entries; parent names the enclosing op for
// errors about the list itself.
func (r *Registry) parseOps(file string, n *yaml.Node, parent string) ([]Op, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, &ConfigError{File: file, Line: n.Line, Op: parent, Err: fmt.Errorf("%w: ops must be a non-empty list", ErrBadValue)}
	}
	ops := make([]Op, 0, len(n.Content))
	for _, e := range n.Content {
		op, err := r.parseOp(file, resolve(e))
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func opName(e *yaml.Node) string {
	if e.Kind == yaml.MappingNode && len(e.Content) > 0 {
		return e.Content[0].Value
	}
	return e.Value
}

func (r *Registry) parseOp(file string, e *yaml.Node) (Op, error) {
	a := &Args{file: file, line: e.Line, reg: r, used: map[string]bool{}}
	switch e.Kind {
	case yaml.ScalarNode:
		a.op = e.Value
	case yaml.MappingNode:
		a.op, a.line = e.Content[0].Value, e.Content[0].Line
		if len(e.Content) > 2 {
			return nil, a.errorf(e.Content[2].Line, "%w %q beside the op name (indent parameters under it)", ErrUnknownParam, e.Content[2].Value)
		}
		v := resolve(e.Content[1])
		switch {
		case v.Kind == yaml.MappingNode:
			a.node = v
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		default:
			return nil, a.errorf(v.Line, "%w: parameters must be a mapping", ErrBadValue)
		}
	default:
		return nil, &ConfigError{File: file, Line: e.Line, Err: fmt.Errorf("%w: an op is a name or a one-key mapping", ErrBadValue)}
	}
	if a.node != nil {
		seen := map[string]bool{}
		for i := 0; i < len(a.node.Content); i += 2 {
			k := a.node.Content[i]
			if seen[k.Value] {
				return nil, a.errorf(k.Line, "%w: %q given twice", ErrBadValue, k.Value)
			}
			seen[k.Value] = true
		}
	}
	return r.build(a.op, a)
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// Args gives a constructor typed access to its op's YAML parameters and
// turns every problem into a ConfigError carrying file, line and op.
type Args struct {
	file, op string
	line     int        // line of the op name
	node     *yaml.Node // parameter mapping; nil when none given
	reg      *Registry
	used     map[string]bool
	asked    []string // every key the constructor looked up, for messages
}

// Op returns the op name being built.
func (a *Args) Op() string { return a.op }

// Has reports whether key was given.
func (a *Args) Has(key string) bool { _, v := a.lookup(key); return v != nil }

// Errorf returns a ConfigError at key's line (the op's when key is absent).
func (a *Args) Errorf(key, format string, args ...any) error {
	line := a.line
	if k, _ := a.lookup(key); k != nil {
		line = k.Line
	}
	return a.errorf(line, "%s: %w", key, fmt.Errorf(format, args...))
}

func (a *Args) errorf(line int, format string, args ...any) error {
	return &ConfigError{File: a.file, Line: line, Op: a.op, Err: fmt.Errorf(format, args...)}
}

// lookup finds key's key and value nodes and marks it read.
func (a *Args) lookup(key string) (k, v *yaml.Node) {
	if !slices.Contains(a.asked, key) {
		a.asked = append(a.asked, key)
	}
	if a.node == nil {
		return nil, nil
	}
	for i := 0; i < len(a.node.Content); i += 2 {
		if a.node.Content[i].Value == key {
			a.used[key] = true
			return a.node.Content[i], resolve(a.node.Content[i+1])
		}
	}
	return nil, nil
}

func (a *Args) unused() error {
	if a.node == nil {
		return nil
	}
	for i := 0; i < len(a.node.Content); i += 2 {
		if k := a.node.Content[i]; !a.used[k.Value] {
			slices.Sort(a.asked)
			return a.errorf(k.Line, "%w %q (known: %s)", ErrUnknownParam, k.Value, strings.Join(a.asked, ", "))
		}
	}
	return nil
}

// Float reads a number param (constant, range or choice) whose every value
// lies in [min, max].
func (a *Args) Float(key string, def Param, min, max float64) (Param, error) {
	return a.param(key, def, min, max, func(p Param) Param { return p })
}

// Int is Float for whole numbers.
func (a *Args) Int(key string, def Param, min, max float64) (Param, error) {
	return a.param(key, def.asInt(), min, max, Param.asInt)
}

// Kernel reads an odd positive kernel size, up to max; a range draws odd
// sizes only.
func (a *Args) Kernel(key string, def Param, max float64) (Param, error) {
	return a.param(key, def.asOdd(), 1, max, Param.asOdd)
}

func (a *Args) param(key string, def Param, min, max float64, mark func(Param) Param) (Param, error) {
	_, v := a.lookup(key)
	if v == nil {
		return def, nil
	}
	p, err := parseParam(v)
	if err == nil {
		p = mark(p)
		err = p.validate(min, max)
	}
	if err != nil {
		return Param{}, a.errorf(v.Line, "%s: %w", key, err)
	}
	return p, nil
}

func parseParam(v *yaml.Node) (Param, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		f, err := number(v)
		return Const(f), err
	case yaml.SequenceNode:
		vs, err := numbers(v)
		switch {
		case err != nil:
			return Param{}, err
		case len(vs) == 0:
			return Param{}, fmt.Errorf("%w: empty list", ErrBadValue)
		case len(vs) == 2:
			return Uniform(vs[0], vs[1]), nil
		}
		return Choice(vs...), nil
	case yaml.MappingNode:
		if len(v.Content) == 2 && v.Content[0].Value == "choice" {
			if c := resolve(v.Content[1]); c.Kind == yaml.SequenceNode && len(c.Content) > 0 {
				vs, err := numbers(c)
				return Choice(vs...), err
			}
		}
	}
	return Param{}, fmt.Errorf("%w: want a number, [lo, hi] or a list of choices", ErrBadValue)
}

func numbers(seq *yaml.Node) ([]float64, error) {
	vs := make([]float64, len(seq.Content))
	for i, c := range seq.Content {
		var err error
		if vs[i], err = number(resolve(c)); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

func number(v *yaml.Node) (float64, error) {
	var f float64
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f) != nil {
		return 0, fmt.Errorf("%w: %q is not a number", ErrBadValue, v.Value)
	}
	return f, nil
}

// Prob reads a constant probability in [0, 1].
func (a *Args) Prob(key string, def float64) (float64, error) {
	_, v := a.lookup(key)
	if v == nil {
		return def, nil
	}
	f, err := number(v)
	if err == nil && (f < 0 || f > 1 || math.IsNaN(f)) {
		err = fmt.Errorf("%w: %g", ErrBadProbability, f)
	}
	if err != nil {
		return 0, a.errorf(v.Line, "%s: %w", key, err)
	}
	return f, nil
}

// Chance reads a flag that is true, false or a probability of being true
// per application (as imgaug's per_channel).
func (a *Args) Chance(key string, def float64) (float64, error) {
	_, v := a.lookup(key)
	if v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		var b bool
		if err := v.Decode(&b); err != nil {
			return 0, a.errorf(v.Line, "%s: %w: %v", key, ErrBadValue, err)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	}
	return a.Prob(key, def)
}

// Enum reads one of allowed, or a list of them to choose from per
// application.
func (a *Args) Enum(key string, def string, allowed ...string) (Enum, error) {
	_, v := a.lookup(key)
	if v == nil {
		return Enum{def}, nil
	}
	var vals []string
	switch v.Kind {
	case yaml.ScalarNode:
		vals = []string{v.Value}
	case yaml.SequenceNode:
		for _, c := range v.Content {
			vals = append(vals, resolve(c).Value)
		}
	}
	if len(vals) == 0 {
		return nil, a.errorf(v.Line, "%s: %w: want one of %v or a list of them", key, ErrBadValue, allowed)
	}
	for _, s := range vals {
		if !slices.Contains(allowed, s) {
			return nil, a.errorf(v.Line, "%s: %w: %q is not one of %v", key, ErrBadValue, s, allowed)
		}
	}
	return Enum(vals), nil
}

// Ops reads a non-empty list of child ops.
func (a *Args) Ops(key string) ([]Op, error) {
	_, v := a.lookup(key)
	if v == nil {
		return nil, a.errorf(a.line, "%w: missing %q list", ErrBadValue, key)
	}
	return a.reg.parseOps(a.file, v, a.op)
}

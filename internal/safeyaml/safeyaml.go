// Package safeyaml reads segtool's small YAML configs (augment pipelines,
// gate files, model specs) with bounds: a size cap, and no anchors or
// aliases, whose expansion yaml.v3 does not limit when a document is read
// into nodes and walked (a 2 KB alias bomb under an augment op expanded to
// gigabytes).
package safeyaml

import (
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// MaxBytes caps a config file: segtool's configs are a few KB, so a file
// this large is a mistake or an attack, not a pipeline.
const MaxBytes = 1 << 20

// Kinds of refusal, for errors.Is.
var (
	ErrTooLarge = errors.New("config file too large")
	ErrAlias    = errors.New("YAML anchors and aliases are not allowed")
)

// LineError is a refusal at a line of the document.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadFile reads path, refusing a file over MaxBytes without reading it
// all.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if err := CheckSize(data); err != nil {
		return nil, err
	}
	return data, nil
}

// CheckSize refuses data over MaxBytes.
func CheckSize(data []byte) error {
	if len(data) > MaxBytes {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxBytes)
	}
	return nil
}

// Parse checks data's size, parses it into a node tree and refuses any
// anchor or alias, naming its line. The tree is safe to walk and to
// Decode. Syntax errors are yaml.v3's, unchanged.
func Parse(data []byte) (*yaml.Node, error) {
	if err := CheckSize(data); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if err := CheckNode(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// CheckNode returns a *LineError at the first anchor or alias under n.
// Without aliases the tree is a tree, so the walk is linear in its size.
func CheckNode(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &LineError{Line: n.Line, Err: ErrAlias}
	}
	for _, c := range n.Content {
		if err := CheckNode(c); err != nil {
			return err
		}
	}
	return nil
}

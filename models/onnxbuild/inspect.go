package onnxbuild

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// OpsetImport is one ModelProto.opset_import entry; Domain "" is the
// default ONNX domain (ai.onnx).
type OpsetImport struct {
	Domain  string
	Version int64
}

// ValueInfo is a graph input or output: name, TensorProto.DataType of its
// elements (1 float32) and dims (a Dim with neither Value nor Param is an
// unknown dimension).
type ValueInfo struct {
	Name     string
	ElemType int32
	Dims     []Dim
}

// OpCount is one op type and how many top-level nodes use it.
type OpCount struct {
	Op    string // "Conv", or "domain:Op" outside the default domain
	Count int
}

// Info is what Inspect reads from an ONNX file, things ONNX Runtime's API
// does not expose (IR version, opsets, producer, op histogram).
type Info struct {
	IRVersion       int64
	Producer        string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	Doc             string
	Opsets          []OpsetImport
	Metadata        map[string]string
	Graph           string
	Nodes           int       // top-level nodes (subgraphs not counted)
	Ops             []OpCount // by count, descending, then name
	Initializers    int
	InitTypes       map[int32]int // initializers by TensorProto element type (TypeFloat, TypeFloat16, ...)
	Params          int64         // elements in all initializers (dims product)
	Inputs          []ValueInfo   // graph inputs that are not initializers
	Outputs         []ValueInfo
	// Heads maps each graph output to the op that last changed its values
	// (OutputHead): "Softmax", "Sigmoid", ..., or "" when a graph input or
	// initializer feeds it unchanged.
	Heads map[string]string
}

// passThrough ops move, reshape, select or interpolate values without
// changing what they mean: a probability stays a probability through them.
var passThrough = map[string]bool{
	"Identity": true, "Transpose": true, "Reshape": true, "Squeeze": true, "Unsqueeze": true,
	"Flatten": true, "Resize": true, "Upsample": true, "Slice": true, "Gather": true,
	"Cast": true, "Split": true, "Expand": true, "Pad": true,
}

// outputHeads walks back from each graph output through pass-through ops
// (first data input) to the op that produced its values.
func outputHeads(nodes []nodeIO, outputs []ValueInfo) map[string]string {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.outputs {
			producer[o] = i
		}
	}
	heads := map[string]string{}
	for _, out := range outputs {
		name, head := out.Name, ""
		for range len(nodes) + 1 { // a malformed graph may loop
			i, ok := producer[name]
			if !ok {
				break
			}
			n := nodes[i]
			if !passThrough[n.op] || len(n.inputs) == 0 {
				head = n.op
				break
			}
			name = n.inputs[0]
		}
		heads[out.Name] = head
	}
	return heads
}

// nodeIO is a node's op and the names of its inputs and outputs.
type nodeIO struct {
	op              string
	inputs, outputs []string
}

// ErrNotONNX is wrapped by Inspect's errors for bytes that do not parse as
// a ModelProto with a graph.
var ErrNotONNX = errors.New("not an ONNX model")

// Inspect decodes the model-level facts of an ONNX file. It skips tensor
// data without copying it, so it is cheap on large models.
func Inspect(data []byte) (Info, error) {
	var info Info
	var graph []byte
	hasGraph := false
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			info.IRVersion = int64(x)
		case num == modelProducerName && typ == protowire.BytesType:
			info.Producer = string(v)
		case num == modelProducerVersion && typ == protowire.BytesType:
			info.ProducerVersion = string(v)
		case num == modelDomain && typ == protowire.BytesType:
			info.Domain = string(v)
		case num == modelModelVersion && typ == protowire.VarintType:
			info.ModelVersion = int64(x)
		case num == modelDocString && typ == protowire.BytesType:
			info.Doc = string(v)
		case num == modelOpsetImport && typ == protowire.BytesType:
			var o OpsetImport
			if err := fields(v, func(n protowire.Number, t protowire.Type, vv []byte, xx uint64) error {
				if n == opsetDomain && t == protowire.BytesType {
					o.Domain = string(vv)
				} else if n == opsetVersion && t == protowire.VarintType {
					o.Version = int64(xx)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			info.Opsets = append(info.Opsets, o)
		case num == modelMetadataProps && typ == protowire.BytesType:
			var k, val string
			if err := fields(v, func(n protowire.Number, t protowire.Type, vv []byte, _ uint64) error {
				if t == protowire.BytesType && n == entryKey {
					k = string(vv)
				} else if t == protowire.BytesType && n == entryValue {
					val = string(vv)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("metadata_props: %w", err)
			}
			if info.Metadata == nil {
				info.Metadata = map[string]string{}
			}
			info.Metadata[k] = val
		case num == modelGraph && typ == protowire.BytesType:
			graph, hasGraph = v, true
		}
		return nil
	})
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrNotONNX, err)
	}
	if !hasGraph || info.IRVersion == 0 {
		return Info{}, fmt.Errorf("%w: no ir_version or graph", ErrNotONNX)
	}
	if err := inspectGraph(graph, &info); err != nil {
		return Info{}, fmt.Errorf("%w: graph: %v", ErrNotONNX, err)
	}
	return info, nil
}

func inspectGraph(data []byte, info *Info) error {
	ops := map[string]int{}
	inits := map[string]bool{}
	var inputs []ValueInfo
	var nodes []nodeIO
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case graphName:
			info.Graph = string(v)
		case graphNode:
			var op, domain string
			var io nodeIO
			if err := fields(v, func(n protowire.Number, t protowire.Type, vv []byte, _ uint64) error {
				if t != protowire.BytesType {
					return nil
				}
				switch n {
				case nodeOpType:
					op = string(vv)
				case nodeDomain:
					domain = string(vv)
				case nodeInput:
					io.inputs = append(io.inputs, string(vv))
				case nodeOutput:
					io.outputs = append(io.outputs, string(vv))
				}
				return nil
			}); err != nil {
				return fmt.Errorf("node %d: %w", info.Nodes, err)
			}
			if domain != "" && domain != "ai.onnx" {
				op = domain + ":" + op
			}
			ops[op]++
			info.Nodes++
			io.op = op
			nodes = append(nodes, io)
		case graphInitializer:
			name, n, elem, err := inspectTensor(v)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", info.Initializers, err)
			}
			inits[name] = true
			if info.InitTypes == nil {
				info.InitTypes = map[int32]int{}
			}
			info.InitTypes[elem]++
			info.Initializers++
			info.Params += n
		case graphInput, graphOutput:
			vi, err := inspectValueInfo(v)
			if err != nil {
				return err
			}
			if num == graphInput {
				inputs = append(inputs, vi)
			} else {
				info.Outputs = append(info.Outputs, vi)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Before IR version 4 initializers were also listed as inputs.
	for _, in := range inputs {
		if !inits[in.Name] {
			info.Inputs = append(info.Inputs, in)
		}
	}
	info.Heads = outputHeads(nodes, info.Outputs)
	for op, n := range ops {
		info.Ops = append(info.Ops, OpCount{Op: op, Count: n})
	}
	sort.Slice(info.Ops, func(i, j int) bool {
		if info.Ops[i].Count != info.Ops[j].Count {
			return info.Ops[i].Count > info.Ops[j].Count
		}
		return info.Ops[i].Op < info.Ops[j].Op
	})
	return nil
}

// inspectTensor returns a TensorProto's name and element count.
func inspectTensor(data []byte) (string, int64, int32, error) {
	var name string
	var elem int32
	n := int64(1)
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == tensorName && typ == protowire.BytesType:
			name = string(v)
		case num == tensorDataType && typ == protowire.VarintType:
			elem = int32(x)
		case num == tensorDims && typ == protowire.VarintType:
			n *= int64(x)
		case num == tensorDims && typ == protowire.BytesType: // packed
			for len(v) > 0 {
				d, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return protowire.ParseError(k)
				}
				n *= int64(d)
				v = v[k:]
			}
		}
		return nil
	})
	return name, n, elem, err
}

func inspectValueInfo(data []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case valueName:
			vi.Name = string(v)
		case valueType:
			return fields(v, func(n protowire.Number, t protowire.Type, tv []byte, _ uint64) error {
				if n != typeTensor || t != protowire.BytesType {
					return nil
				}
				return fields(tv, func(n protowire.Number, t protowire.Type, sv []byte, x uint64) error {
					if n == tensorElemType && t == protowire.VarintType {
						vi.ElemType = int32(x)
					} else if n == tensorShape && t == protowire.BytesType {
						return fields(sv, func(n protowire.Number, t protowire.Type, dv []byte, _ uint64) error {
							if n != shapeDim || t != protowire.BytesType {
								return nil
							}
							var d Dim
							err := fields(dv, func(n protowire.Number, t protowire.Type, b []byte, x uint64) error {
								if n == dimValue && t == protowire.VarintType {
									d.Value = int64(x)
								} else if n == dimParam && t == protowire.BytesType {
									d.Param = string(b)
								}
								return nil
							})
							vi.Dims = append(vi.Dims, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return ValueInfo{}, fmt.Errorf("value info %q: %w", vi.Name, err)
	}
	return vi, nil
}

// fields walks the fields of one message, handing f the bytes of
// length-delimited fields and the value of varint ones (fixed ones as
// their bits), without copying.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

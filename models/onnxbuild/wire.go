package onnxbuild

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx/onnx.proto (IR version 8). Repeated scalar fields
// are proto2 non-packed there except TensorProto's *_data fields; the
// writer follows that, and Inspect reads both encodings.
const (
	// ModelProto
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelModelVersion    = 5
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	// OperatorSetIdProto
	opsetDomain  = 1
	opsetVersion = 2

	// StringStringEntryProto
	entryKey   = 1
	entryValue = 2

	// GraphProto
	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	// NodeProto
	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDomain    = 7

	// AttributeProto
	attrName    = 1
	attrF       = 2
	attrI       = 3
	attrS       = 4
	attrFloatsF = 7
	attrIntsF   = 8
	attrType    = 20

	// TensorProto
	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9

	// ValueInfoProto
	valueName = 1
	valueType = 2

	// TypeProto and TypeProto.Tensor
	typeTensor     = 1
	tensorElemType = 1
	tensorShape    = 2

	// TensorShapeProto and its Dimension
	shapeDim = 1
	dimValue = 1
	dimParam = 2
)

func appendStr(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func encodeAttr(a Attr) []byte {
	var b []byte
	b = appendStr(b, attrName, a.Name)
	b = appendInt(b, attrType, int64(a.typ))
	switch a.typ {
	case attrFloat:
		b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = appendInt(b, attrI, a.i)
	case attrString:
		b = appendStr(b, attrS, a.s)
	case attrFloats:
		for _, f := range a.floats {
			b = protowire.AppendTag(b, attrFloatsF, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case attrInts:
		for _, v := range a.ints {
			b = appendInt(b, attrIntsF, v)
		}
	}
	return b
}

func encodeNode(n node) []byte {
	var b []byte
	for _, in := range n.inputs {
		b = appendStr(b, nodeInput, in)
	}
	for _, out := range n.outputs {
		b = appendStr(b, nodeOutput, out)
	}
	b = appendStr(b, nodeName, n.name)
	b = appendStr(b, nodeOpType, n.op)
	for _, a := range n.attrs {
		b = appendMsg(b, nodeAttribute, encodeAttr(a))
	}
	return b
}

// appendTensor appends initializer t as a length-delimited TensorProto
// field, its values as little-endian raw_data, written straight into b.
func appendTensor(b []byte, num protowire.Number, t initializer) []byte {
	var head []byte
	for _, d := range t.dims {
		head = appendInt(head, tensorDims, d)
	}
	elem, raw := int64(TypeFloat), 4*len(t.f32)
	switch {
	case t.i64 != nil:
		elem, raw = TypeInt64, 8*len(t.i64)
	case t.f16 != nil:
		elem, raw = TypeFloat16, 2*len(t.f16)
	}
	head = appendInt(head, tensorDataType, elem)
	head = appendStr(head, tensorName, t.name)
	size := len(head) + protowire.SizeTag(tensorRawData) + protowire.SizeBytes(raw)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = append(b, head...)
	b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(raw))
	switch {
	case t.i64 != nil:
		for _, v := range t.i64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	case t.f16 != nil:
		for _, v := range t.f16 {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	default:
		for _, v := range t.f32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b
}

func encodeValueInfo(v valueInfo) []byte {
	var shape []byte
	for _, d := range v.dims {
		var dim []byte
		if d.Param != "" {
			dim = appendStr(dim, dimParam, d.Param)
		} else {
			dim = appendInt(dim, dimValue, d.Value)
		}
		shape = appendMsg(shape, shapeDim, dim)
	}
	var tt []byte
	tt = appendInt(tt, tensorElemType, int64(v.elem))
	tt = appendMsg(tt, tensorShape, shape)
	var typ []byte
	typ = appendMsg(typ, typeTensor, tt)
	var b []byte
	b = appendStr(b, valueName, v.name)
	b = appendMsg(b, valueType, typ)
	return b
}

// sourceNames is the set of names known before any node runs: the graph's
// inputs and initializers.
func (g *Graph) sourceNames() map[string]bool {
	known := map[string]bool{}
	for _, v := range g.inputs {
		known[v.name] = true
	}
	for _, t := range g.inits {
		known[t.name] = true
	}
	return known
}

// check verifies that every node input exists before it is used and that
// the graph has inputs and outputs.
func (g *Graph) check() error {
	if g.err != nil {
		return g.err
	}
	if len(g.inputs) == 0 || len(g.outputs) == 0 {
		return fmt.Errorf("onnxbuild: graph %q: needs at least one input and one output", g.Name)
	}
	known := g.sourceNames()
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			if in != "" && !known[in] {
				return fmt.Errorf("onnxbuild: graph %q: node %s (%s) reads %q before it is produced", g.Name, n.name, n.op, in)
			}
		}
		for _, out := range n.outputs {
			known[out] = true
		}
	}
	for _, v := range g.outputs {
		if !known[v.name] {
			return fmt.Errorf("onnxbuild: graph %q: output %q is never produced", g.Name, v.name)
		}
	}
	return nil
}

// Marshal encodes the graph as an ONNX ModelProto: IR version IRVersion,
// the default-domain opset Opset, producer Producer, in g.Precision (see
// Precision). The bytes depend only on the calls that built the graph and
// the precision.
func (g *Graph) Marshal() ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if g.Precision != "" && g.Precision != FP32 {
		h, err := g.convert()
		if err != nil {
			return nil, err
		}
		return h.Marshal()
	}
	size := 0
	for _, t := range g.inits {
		size += 4*len(t.f32) + 8*len(t.i64) + 2*len(t.f16) + len(t.name) + 64
	}
	gb := make([]byte, 0, size+4096)
	for _, n := range g.nodes {
		gb = appendMsg(gb, graphNode, encodeNode(n))
	}
	gb = appendStr(gb, graphName, g.Name)
	for _, t := range g.inits {
		gb = appendTensor(gb, graphInitializer, t)
	}
	for _, v := range g.inputs {
		gb = appendMsg(gb, graphInput, encodeValueInfo(v))
	}
	for _, v := range g.outputs {
		gb = appendMsg(gb, graphOutput, encodeValueInfo(v))
	}

	b := make([]byte, 0, len(gb)+1024)
	b = appendInt(b, modelIRVersion, IRVersion)
	b = appendStr(b, modelProducerName, Producer)
	b = appendStr(b, modelProducerVersion, "1")
	b = appendInt(b, modelModelVersion, 1)
	if g.Doc != "" {
		b = appendStr(b, modelDocString, g.Doc)
	}
	var ops []byte
	ops = appendStr(ops, opsetDomain, "")
	ops = appendInt(ops, opsetVersion, Opset)
	b = appendMsg(b, modelOpsetImport, ops)
	for _, m := range g.meta {
		var e []byte
		e = appendStr(e, entryKey, m.key)
		e = appendStr(e, entryValue, m.value)
		b = appendMsg(b, modelMetadataProps, e)
	}
	b = appendMsg(b, modelGraph, gb)
	return b, nil
}

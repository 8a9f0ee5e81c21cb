package onnxbuild

import (
	"fmt"
	"math"
)

// Tensor names of the oracle model.
const (
	OracleInput  = "image" // float32 [N,3,H,W], all three dims dynamic
	OracleOutput = "prob"  // float32 [N,1,H,W]
)

// OracleOptions parameterise the oracle model.
type OracleOptions struct {
	Channel int     // input channel it reads, 0..2
	Gain    float32 // multiplies that channel
	Bias    float32 // added after the gain
}

// DefaultOracle thresholds the first channel at 127.5: gain 1024, bias
// -130560 (= -1024*127.5). Fed raw 0..255 values (Scale 1, Mean 0, Std 1) in
// RGB order, the logit is 1024*(R-127.5), exact in float32 and at least 512
// in magnitude, so prob is exactly 1 where R >= 128 and exactly 0 elsewhere
// (float32 exp over- or underflows there, whatever the execution provider).
func DefaultOracle() OracleOptions { return OracleOptions{Channel: 0, Gain: 1024, Bias: -130560} }

// Logit is the oracle's pre-sigmoid value for input x, as ONNX Runtime
// computes it in float32: the 1x1 conv's weights are Gain on Channel and
// exact zeros elsewhere, so the dot product is the one rounded product
// Gain*x, and the bias is added once after it. Pick a power-of-two Gain (or
// inputs where Gain*x is exact) to keep it exact whatever the summation order.
func (o OracleOptions) Logit(x float32) float32 { return o.Gain*x + o.Bias }

// Prob is float32(1/(1+exp(-Logit(x)))). ONNX Runtime's CPU Sigmoid (MLAS's
// approximation) returns it within 2e-7 absolute, exactly 0 or 1 where
// |Logit(x)| >= 18, and 0.5 at a zero logit; so prob >= 0.5 exactly when
// Logit(x) >= 0 (the package tests check all of this through ORT).
func (o OracleOptions) Prob(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(o.Logit(x)))))
}

// Oracle builds the oracle model: prob[n,0,y,x] = sigmoid(Gain *
// image[n,Channel,y,x] + Bias), a 1x1 Conv then a Sigmoid. Its output is a
// known function of its input, so end-to-end tests know the exact masks a
// synthetic dataset must give.
func Oracle(o OracleOptions) ([]byte, error) {
	if o.Channel < 0 || o.Channel > 2 {
		return nil, fmt.Errorf("onnxbuild: oracle channel %d, want 0..2", o.Channel)
	}
	g := NewGraph("oracle")
	g.Doc = fmt.Sprintf("prob = sigmoid(%g * image[:, %d] + %g)", o.Gain, o.Channel, o.Bias)
	buildOracle(g, o, Dynamic("N", 1))
	return g.Marshal()
}

func buildOracle(g *Graph, o OracleOptions, batch Dim) {
	x := g.Input(OracleInput, batch, Fixed(3), Dynamic("H", 1), Dynamic("W", 1))
	w := make([]float32, 3)
	w[o.Channel] = o.Gain
	y := g.Conv(x, g.Constant("oracle.weight", []int64{1, 3, 1, 1}, w), g.Constant("oracle.bias", []int64{1}, []float32{o.Bias}), ConvAttrs{})
	g.Output(OracleOutput, g.Sigmoid(y), batch, Fixed(1), Dynamic("H", 1), Dynamic("W", 1))
}

func oracleArch() Arch {
	return Arch{
		Name:      "oracle",
		Framework: "",
		Doc:       "oracle: prob = sigmoid(1024*(image[:,0] - 127.5)), a 1x1 Conv + Sigmoid: exactly 1 where the red value (raw 0..255 RGB) is >= 128, else 0 (DefaultOracle)",
		Dynamic:   true, Multiple: 1, MinSize: 1,
		Input: OracleInput, Output: OracleOutput, Layout: "NCHW", Order: "RGB",
		Scale: 1, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1},
		Kind: "sigmoid", OutputChannels: 1,
		build: func(g *Graph, _ *net, _, _ int, batch Dim) {
			o := DefaultOracle()
			if g.Precision.halfWeights() {
				o = FP16Oracle() // DefaultOracle's bias overflows float16
				g.Doc = "oracle: prob = sigmoid(256*(image[:,0] - 127.5)) (FP16Oracle), a 1x1 Conv + Sigmoid: exactly 1 where the red value (raw 0..255 RGB) is >= 128, else 0"
			}
			buildOracle(g, o, batch)
		},
	}
}

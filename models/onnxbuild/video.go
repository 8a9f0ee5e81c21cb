package onnxbuild

// Tensor names of the toy video models.
const (
	StateSumInput    = "src"       // float32 [N,3,H,W], raw values
	StateSumOutput   = "alpha"     // float32 [N,1,H,W]
	StateSumStateIn  = "state_in"  // float32, any 4-D shape; starts as [1,1,1,1] zeros
	StateSumStateOut = "state_out" // float32 [N,1,1,1]
	StateSumGain     = "gain"      // float32 [1], a constant input
	PriorMixInput    = "image"     // float32 [N,4,H,W]: 3 colour channels and the prior
	PriorMixOutput   = "alpha"     // float32 [N,1,H,W]
)

// buildStateSum is a recurrent toy whose output over a clip is known
// exactly:
//
//	state_out = state_in + gain·mean(src[:, 0])
//	alpha     = clip(state_out, 0, 1) at every pixel
//
// so frame t's alpha is gain times the sum of the red means of frames
// 0..t since the clip's start, which shows the state carried from frame to
// frame and reset between clips. state_in is declared with dynamic
// dimensions, as RobustVideoMatting declares r1i..r4i, and starts as
// [1,1,1,1] zeros. With raw red values and power-of-two pixel counts and
// gain the sums are exact in float32.
func buildStateSum(g *Graph, batch Dim) {
	if !fp32Only(g, "state-sum") {
		return
	}
	x := g.Input(StateSumInput, batch, Fixed(3), Dynamic("H", 1), Dynamic("W", 1))
	s := g.Input(StateSumStateIn, Dynamic("s0", 1), Dynamic("s1", 1), Dynamic("s2", 1), Dynamic("s3", 1))
	gain := g.Input(StateSumGain, Fixed(1))
	red := g.Conv(g.GlobalAveragePool(x), g.Constant("red.weight", []int64{1, 3, 1, 1}, []float32{1, 0, 0}), "", ConvAttrs{})
	next := g.Add(s, g.Mul(red, gain))
	// Zero weights give a zero plane at the input's size to broadcast onto.
	zero := g.Conv(x, g.Constant("zero.weight", []int64{1, 3, 1, 1}, []float32{0, 0, 0}), "", ConvAttrs{})
	alpha := g.Clip(g.Add(zero, next), 0, 1)
	g.Output(StateSumOutput, alpha, batch, Fixed(1), Dynamic("H", 1), Dynamic("W", 1))
	g.Output(StateSumStateOut, next, batch, Fixed(1), Fixed(1), Fixed(1))
}

func stateSumArch() Arch {
	return Arch{
		Name: "state-sum",
		Doc: "state-sum: a recurrent toy, state_out = state_in + gain*mean(src[:,0]), alpha = clip(state_out, 0, 1) everywhere; " +
			"inputs src (raw RGB 0..255), state_in (starts [1,1,1,1] zeros), gain [1]; outputs alpha, state_out",
		Dynamic: true, Multiple: 1, MinSize: 1,
		Input: StateSumInput, Output: StateSumOutput, Layout: "NCHW", Order: "RGB",
		Scale: 1, Std: [3]float32{1, 1, 1},
		Kind: "sigmoid", OutputChannels: 1,
		build: func(g *Graph, _ *net, _, _ int, batch Dim) { buildStateSum(g, batch) },
	}
}

// buildPriorMix is a prior-mask toy: alpha = clip(½·image[:,0] +
// ½·image[:,3], 0, 1), half the red channel and half the prior channel, so
// over a clip alpha_t = ½·r_t + ½·alpha_(t−1) with alpha_(−1) = 0: the
// prior channel is seen to be the previous prediction. The weights are
// powers of two, so the mix is exact.
func buildPriorMix(g *Graph, batch Dim) {
	if !fp32Only(g, "prior-mix") {
		return
	}
	x := g.Input(PriorMixInput, batch, Fixed(4), Dynamic("H", 1), Dynamic("W", 1))
	y := g.Conv(x, g.Constant("mix.weight", []int64{1, 4, 1, 1}, []float32{0.5, 0, 0, 0.5}), "", ConvAttrs{})
	g.Output(PriorMixOutput, g.Clip(y, 0, 1), batch, Fixed(1), Dynamic("H", 1), Dynamic("W", 1))
}

func priorMixArch() Arch {
	return Arch{
		Name:    "prior-mix",
		Doc:     "prior-mix: a 4-channel prior-mask toy, alpha = clip(image[:,0]/2 + image[:,3]/2, 0, 1): half the red value (RGB on p/255), half the previous prediction",
		Dynamic: true, Multiple: 1, MinSize: 1,
		Input: PriorMixInput, Output: PriorMixOutput, Layout: "NCHW", Order: "RGB",
		Scale: 1.0 / 255, Std: [3]float32{1, 1, 1},
		Kind: "sigmoid", OutputChannels: 1,
		build: func(g *Graph, _ *net, _, _ int, batch Dim) { buildPriorMix(g, batch) },
	}
}

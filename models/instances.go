package models

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// Instance is one detection of an instance model, in the image's pixels.
type Instance struct {
	// Box is x1, y1, x2, y2 in image pixels.
	Box   [4]float64
	Label int
	Score float32
	// Mask is the detection's probability plane at the image's size,
	// row-major.
	Mask []float32
}

// InstancePredictor runs an instance model (a spec whose output kind is
// instances) on one image at a time and returns its detections in the
// image's pixels. Predict is safe for concurrent use: each call has its
// own tensors, and ONNX Runtime's Run may be called concurrently.
type InstancePredictor struct {
	Session *Session
	// Size, when non-zero, is the size the image is resized to before the
	// model sees it; boxes and masks are mapped back.
	Size image.Point
}

// NewInstancePredictor returns a predictor for s.
func NewInstancePredictor(s *Session, size image.Point) *InstancePredictor {
	return &InstancePredictor{Session: s, Size: size}
}

// ErrInstanceModel is wrapped by the batch path's errors (NewBatch, so
// Run and Predictor.Predict) for an instance model, whose outputs have no
// fixed shape: run it with an InstancePredictor.
var ErrInstanceModel = errors.New("an instance model (output kind instances) runs through an InstancePredictor, not in batches")

// ErrNotInstances is returned by Predict for a session whose spec is not
// an instance model's.
var ErrNotInstances = errors.New("the model spec's output kind is not instances")

// Predict returns img's detections (8-bit BGR, as gocv.IMRead decodes it),
// highest score first (ties in the model's order). Zero detections is a
// valid result: an empty slice, no error.
//
// The model sees the image resized (OpenCV linear) to Size, else to the
// spec's fixed input size, else at its own size; boxes are scaled back to
// image pixels and clipped to the image, and each mask is brought to the
// image's size: an image-format mask is resized back (OpenCV linear, as
// Restore), a box-format mask is pasted into its box (pasteMask). Labels
// are kept as the model gives them, the person's and others alike; eval
// picks the person label (Spec.Instance.Person).
func (p *InstancePredictor) Predict(img gocv.Mat) ([]Instance, error) {
	s := p.Session
	sp := s.Spec
	if sp.Kind != Instances {
		return nil, fmt.Errorf("instance predictor: %w (it is %q)", ErrNotInstances, sp.Kind)
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("instance predictor: image is %v with %d channels, want 8-bit BGR", img.Type(), img.Channels())
	}
	w, h := img.Cols(), img.Rows()
	inW, inH := w, h
	switch {
	case p.Size != (image.Point{}):
		inW, inH = p.Size.X, p.Size.Y
	case sp.Width > 0 && sp.Height > 0:
		inW, inH = sp.Width, sp.Height
	}
	if inW <= 0 || inH <= 0 {
		return nil, fmt.Errorf("instance predictor: input size %dx%d", inW, inH)
	}
	place := Place(FitResize, w, h, inW, inH)
	pre := sp
	pre.Layout, pre.Width, pre.Height = NCHW, inW, inH // [3,H,W] holds what one NCHW item does
	x := make([]float32, 3*inW*inH)
	if err := pre.Preprocess(img, place, x); err != nil {
		return nil, err
	}
	shape := ort.NewShape(3, int64(inH), int64(inW))
	if sp.Layout == NCHW {
		shape = ort.NewShape(1, 3, int64(inH), int64(inW))
	}
	in, err := ort.NewTensor(shape, x)
	if err != nil {
		return nil, err
	}
	defer func() { _ = in.Destroy() }()
	outs := make([]ort.Value, 4) // nil: ONNX Runtime allocates them at the size it finds
	defer func() {
		for _, v := range outs {
			if v != nil {
				_ = v.Destroy()
			}
		}
	}()
	if err := s.sess.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("run %s on a %dx%d input: %w", sp.Name, inW, inH, err)
	}
	raw, err := readInstanceOutputs(sp.Instance, outs)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", sp.Name, err)
	}
	if sp.Instance.MaskFormat == MaskImage && raw.n > 0 && (raw.mw != inW || raw.mh != inH) {
		return nil, fmt.Errorf("model %s: masks are %dx%d, the input %dx%d; mask_format image needs them at the input size (else box)",
			sp.Name, raw.mw, raw.mh, inW, inH)
	}
	sx, sy := float64(w)/float64(inW), float64(h)/float64(inH)
	dets := make([]Instance, 0, raw.n)
	plane := raw.mw * raw.mh
	for i := range raw.n {
		score := raw.scores[i]
		if math.IsNaN(float64(score)) {
			return nil, fmt.Errorf("model %s: detection %d has a NaN score", sp.Name, i)
		}
		b := raw.boxes[4*i : 4*i+4]
		d := Instance{Label: int(raw.labels[i]), Score: score, Box: [4]float64{
			clamp(float64(b[0])*sx, 0, float64(w)), clamp(float64(b[1])*sy, 0, float64(h)),
			clamp(float64(b[2])*sx, 0, float64(w)), clamp(float64(b[3])*sy, 0, float64(h)),
		}}
		m := raw.masks[i*plane : (i+1)*plane]
		if sp.Instance.MaskFormat == MaskBox {
			d.Mask = pasteMask(m, raw.mw, raw.mh, d.Box, w, h)
		} else if d.Mask, err = Restore(m, place, w, h); err != nil {
			return nil, err
		}
		dets = append(dets, d)
	}
	slices.SortStableFunc(dets, func(a, b Instance) int { return cmp.Compare(b.Score, a.Score) })
	return dets, nil
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

// rawInstances holds the four outputs of one run. ONNX Runtime's outputs
// were copied into Go memory, which outlives the tensors, so it keeps
// their data as is.
type rawInstances struct {
	n      int
	boxes  []float32
	labels []int64
	scores []float32
	masks  []float32
	mw, mh int
}

// readInstanceOutputs reads the boxes, labels, scores and masks values and
// checks that their shapes agree on the detection count.
func readInstanceOutputs(is InstanceSpec, outs []ort.Value) (rawInstances, error) {
	var r rawInstances
	bs := outs[0].GetShape()
	if len(bs) != 2 || bs[1] != 4 {
		return r, fmt.Errorf("output %q has shape %v, want [N,4]", is.Boxes, bs)
	}
	r.n = int(bs[0])
	var err error
	if r.boxes, err = floatData(is.Boxes, outs[0]); err != nil {
		return r, err
	}
	if r.scores, err = floatData(is.Scores, outs[2]); err != nil {
		return r, err
	}
	switch t := outs[1].(type) {
	case *ort.Tensor[int64]:
		r.labels = t.GetData()
	case *ort.Tensor[int32]:
		for _, v := range t.GetData() {
			r.labels = append(r.labels, int64(v))
		}
	case *ort.Tensor[float32]:
		for _, v := range t.GetData() {
			r.labels = append(r.labels, int64(math.Round(float64(v))))
		}
	default:
		return r, fmt.Errorf("output %q holds %T; want int64, int32 or float labels", is.Labels, outs[1])
	}
	ms := outs[3].GetShape()
	switch {
	case len(ms) == 4 && ms[1] == 1:
		r.mh, r.mw = int(ms[2]), int(ms[3])
	case len(ms) == 3:
		r.mh, r.mw = int(ms[1]), int(ms[2])
	default:
		return r, fmt.Errorf("output %q has shape %v, want [N,1,H,W]", is.Masks, ms)
	}
	if r.masks, err = floatData(is.Masks, outs[3]); err != nil {
		return r, err
	}
	if len(r.labels) != r.n || len(r.scores) != r.n || int(ms[0]) != r.n || len(r.masks) != r.n*r.mw*r.mh {
		return r, fmt.Errorf("outputs disagree on the detection count: boxes %v, labels %v, scores %v, masks %v",
			bs, outs[1].GetShape(), outs[2].GetShape(), ms)
	}
	return r, nil
}

func floatData(name string, v ort.Value) ([]float32, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %q holds %T; segtool reads float32 boxes, scores and masks", name, v)
	}
	return t.GetData(), nil
}

// pasteMask pastes an mw x mh mask grid into box (x1, y1, x2, y2 in image
// pixels) of a w x h plane, as torchvision's paste_masks_in_image does
// conceptually (roi_heads.py: the grid padded with one cell of zeros,
// resized bilinearly to the box, placed): pixel x's centre x+0.5 maps to
// grid coordinate u = (x+0.5-x1)/(x2-x1)*mw - 0.5, cell centres at
// integers, and the value is the bilinear interpolation of the grid with
// zeros outside it. So the mask fades to 0 within half a cell outside the
// box. Unlike torchvision, the box is not rounded to whole pixels first.
func pasteMask(grid []float32, mw, mh int, box [4]float64, w, h int) []float32 {
	out := make([]float32, w*h)
	bw, bh := box[2]-box[0], box[3]-box[1]
	if bw <= 0 || bh <= 0 || mw <= 0 || mh <= 0 {
		return out
	}
	cell := func(i, j int) float64 {
		if i < 0 || j < 0 || i >= mw || j >= mh {
			return 0
		}
		return float64(grid[j*mw+i])
	}
	// Pixels whose centre lies within a cell of the box can be non-zero.
	cw, ch := bw/float64(mw), bh/float64(mh)
	xlo, xhi := max(0, int(math.Floor(box[0]-cw))), min(w, int(math.Ceil(box[2]+cw)))
	ylo, yhi := max(0, int(math.Floor(box[1]-ch))), min(h, int(math.Ceil(box[3]+ch)))
	for y := ylo; y < yhi; y++ {
		v := (float64(y)+0.5-box[1])/bh*float64(mh) - 0.5
		j := int(math.Floor(v))
		fv := v - float64(j)
		for x := xlo; x < xhi; x++ {
			u := (float64(x)+0.5-box[0])/bw*float64(mw) - 0.5
			i := int(math.Floor(u))
			fu := u - float64(i)
			top := cell(i, j)*(1-fu) + cell(i+1, j)*fu
			bot := cell(i, j+1)*(1-fu) + cell(i+1, j+1)*fu
			out[y*w+x] = float32(top*(1-fv) + bot*fv)
		}
	}
	return out
}

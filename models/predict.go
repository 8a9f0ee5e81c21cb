package models

import (
	"fmt"
	"image"
	"sync"

	"gocv.io/x/gocv"
)

// Predictor runs a model on one whole image at a time and returns its
// probability plane at the image's size: the image (or each tile of it)
// is placed and preprocessed, run, read as probabilities, restored to its
// rectangle and, for tiles, stitched with a Blender. The steps and their
// order are those of eval's pipeline (prepare, then assemble), so apply and
// eval see the same prediction for the same image and options.
//
// Predict is safe for concurrent use: decoding-side work runs on the
// caller's goroutine and only the session calls are taken one at a time,
// since a Session is not safe for concurrent use.
type Predictor struct {
	Session *Session
	// Fit brings a whole image (or a tile) to the model's input size.
	Fit Fit
	// Tile, when non-zero, splits the image into tiles of Tile.X x Tile.Y
	// image pixels overlapping by Overlap (see Tiles and Blender).
	Tile    image.Point
	Overlap int
	// TileMode says how tiles are used; "" is TileContext, where only the
	// tiles that touch the uncertain band of the whole-image prediction
	// are run.
	TileMode TileMode
	// Batch is the number of tiles per session call on a model with a
	// dynamic batch dimension; 0 or 1 means one. A model with a fixed
	// batch always gets Spec.Batch items, padded.
	Batch int

	mu sync.Mutex
}

// NewPredictor returns a predictor for s. tile zero means no tiling.
func NewPredictor(s *Session, fit Fit, tile image.Point, overlap int) *Predictor {
	return &Predictor{Session: s, Fit: fit, Tile: tile, Overlap: overlap}
}

// TileCount is the number of tiles a w x h image is cut into (in
// TileContext, the most that are run besides the whole image).
func (p *Predictor) TileCount(w, h int) int {
	if p.Tile == (image.Point{}) {
		return 1
	}
	return len(Tiles(w, h, p.Tile.X, p.Tile.Y, p.Overlap))
}

// Input is one model input cut from an image and, once run, its raw
// output.
type Input struct {
	Tile  Tile      // the part of the image it covers
	Place Placement // where that part sits in the model input
	Data  []float32 // the preprocessed item, Spec.ItemLen() values
	Out   []float32 // the item's raw output, set after inference
	Dims  []int64   // Out's dims without the batch dimension
}

// Inputs cuts img (8-bit BGR) into model inputs: the whole image, or with a
// non-zero tile, tiles of tile.X x tile.Y image pixels overlapping by
// overlap (see Tiles). Each is placed by fit (an image smaller than a tile
// is padded, not scaled) and preprocessed.
func (s Spec) Inputs(img gocv.Mat, fit Fit, tile image.Point, overlap int) ([]Input, error) {
	return s.InputsWith(img, fit, tile, overlap, nil)
}

// InputsWith is Inputs with each item's Data taken from data (which must
// return Spec.ItemLen() values), so a pipeline can recycle the buffers;
// nil allocates.
func (s Spec) InputsWith(img gocv.Mat, fit Fit, tile image.Point, overlap int, data func() []float32) ([]Input, error) {
	w, h := img.Cols(), img.Rows()
	if tile == (image.Point{}) {
		return s.cut(img, fit, false, []Tile{{X: 0, Y: 0, W: w, H: h}}, data)
	}
	return s.cut(img, fit, true, Tiles(w, h, tile.X, tile.Y, overlap), data)
}

// TileInputs cuts the given tiles of img and preprocesses them as
// InputsWith cuts tiles (one smaller than the model is padded, not
// scaled): in TileContext, the tiles of BandTiles.
func (s Spec) TileInputs(img gocv.Mat, fit Fit, tiles []Tile, data func() []float32) ([]Input, error) {
	return s.cut(img, fit, true, tiles, data)
}

// BandTiles returns the tiles of a w x h image (cut as Tiles cuts them)
// that hold a pixel of positive weight m (RefineWeights): in TileContext,
// the only tiles run.
func BandTiles(w, h int, tile image.Point, overlap int, m []float32) []Tile {
	var need []Tile
	for _, tl := range Tiles(w, h, tile.X, tile.Y, overlap) {
		if InBand(tl, m, w) {
			need = append(need, tl)
		}
	}
	return need
}

// cut places and preprocesses the given parts of img; tiled says they are
// tiles, which are padded rather than scaled when smaller than the model.
func (s Spec) cut(img gocv.Mat, fit Fit, tiled bool, tiles []Tile, data func() []float32) ([]Input, error) {
	if data == nil {
		data = func() []float32 { return make([]float32, s.ItemLen()) }
	}
	w, h := img.Cols(), img.Rows()
	ins := make([]Input, 0, len(tiles))
	for _, tl := range tiles {
		in := Input{Data: data(), Tile: tl}
		src := img
		if len(tiles) > 1 || tl.W != w || tl.H != h {
			src = img.Region(image.Rect(tl.X, tl.Y, tl.X+tl.W, tl.Y+tl.H))
		}
		f := fit
		if tiled && (tl.W < s.Width || tl.H < s.Height) {
			f = FitPad // an image smaller than a tile: pad, don't scale
		}
		in.Place = Place(f, tl.W, tl.H, s.Width, s.Height)
		err := s.Preprocess(src, in.Place, in.Data)
		if src.Ptr() != img.Ptr() {
			src.Close()
		}
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

// Assemble turns the run inputs of one w x h image into its probability
// plane: each output is read as probabilities (Probability), cropped and
// resized back to its part of the image (Restore) and, when tiled, the
// parts are stitched with a Blender feathered over overlap.
func (s Spec) Assemble(ins []Input, w, h int, tiled bool, overlap int) ([]float32, error) {
	var blend *Blender
	if tiled {
		blend = NewBlender(w, h, overlap)
	}
	plane := make([]float32, s.Width*s.Height)
	for _, in := range ins {
		if err := s.Probability(in.Out, in.Dims, plane); err != nil {
			return nil, err
		}
		p, err := Restore(plane, in.Place, in.Tile.W, in.Tile.H)
		if err != nil {
			return nil, err
		}
		if blend == nil {
			return p, nil
		}
		blend.Add(in.Tile, p)
	}
	return blend.Result(), nil
}

// RefineTiles is TileContext's last step: it blends the run tiles that
// touch the band of weights m (RefineWeights of the global plane under
// band b), leaving out those that disagree with the global plane where
// that is certain (Agreement), and combines them with it (Refine).
func (s Spec) RefineTiles(global, m []float32, tiles []Input, w, h, overlap int, b Band) ([]float32, error) {
	blend := NewBlender(w, h, overlap)
	plane := make([]float32, s.Width*s.Height)
	used := 0
	for _, in := range tiles {
		if !InBand(in.Tile, m, w) {
			continue
		}
		if err := s.Probability(in.Out, in.Dims, plane); err != nil {
			return nil, err
		}
		p, err := Restore(plane, in.Place, in.Tile.W, in.Tile.H)
		if err != nil {
			return nil, err
		}
		if Agreement(p, global, in.Tile, w, b) < b.Agree {
			continue
		}
		blend.Add(in.Tile, p)
		used++
	}
	if used == 0 {
		return global, nil
	}
	return Refine(global, blend.Result(), m), nil
}

// Predict returns the probability of the person class for every pixel of
// img (8-bit BGR), row-major, len Cols*Rows. Values are what the model
// gave: NaN or Inf pass through for the caller to count.
func (p *Predictor) Predict(img gocv.Mat) ([]float32, error) {
	if p.Session == nil {
		return nil, fmt.Errorf("predict: no session")
	}
	spec := p.Session.Spec
	if spec.Stateful() {
		return p.NewStream().Predict(img) // a still image is a clip of one frame
	}
	w, h := img.Cols(), img.Rows()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("predict: empty image")
	}
	tiled := p.Tile != (image.Point{})
	if tiled && p.TileMode != TilePlain {
		return p.predictContext(img)
	}
	ins, err := spec.Inputs(img, p.Fit, p.Tile, p.Overlap)
	if err != nil {
		return nil, err
	}
	if err := p.RunInputs(ins); err != nil {
		return nil, err
	}
	return spec.Assemble(ins, w, h, tiled, p.Overlap)
}

// predictContext is Predict in TileContext: the whole image first, then
// only the tiles that touch its uncertain band.
func (p *Predictor) predictContext(img gocv.Mat) ([]float32, error) {
	spec := p.Session.Spec
	w, h := img.Cols(), img.Rows()
	ins, err := spec.Inputs(img, p.Fit, image.Point{}, 0)
	if err != nil {
		return nil, err
	}
	if err := p.RunInputs(ins); err != nil {
		return nil, err
	}
	global, err := spec.Assemble(ins, w, h, false, 0)
	if err != nil {
		return nil, err
	}
	b := ContextBand(w, h, spec.Width, spec.Height)
	m := RefineWeights(global, w, h, b)
	need := BandTiles(w, h, p.Tile, p.Overlap, m)
	if len(need) == 0 {
		return global, nil
	}
	tiles, err := spec.TileInputs(img, p.Fit, need, nil)
	if err != nil {
		return nil, err
	}
	if err := p.RunInputs(tiles); err != nil {
		return nil, err
	}
	return spec.RefineTiles(global, m, tiles, w, h, p.Overlap, b)
}

// RunInputs runs the session on ins, Batch (or the model's fixed batch,
// padded) at a time, and sets each input's Out and Dims. Predict calls it
// between Spec.Inputs and Spec.Assemble; a pipeline that makes those steps
// on stages of its own calls it in between.
func (p *Predictor) RunInputs(ins []Input) error {
	spec := p.Session.Spec
	per := max(p.Batch, 1)
	if spec.Batch > 0 {
		per = spec.Batch
	}
	for start := 0; start < len(ins); start += per {
		group := ins[start:min(start+per, len(ins))]
		items := len(group)
		if spec.Batch > 0 {
			items = spec.Batch
		}
		x := group[0].Data
		if items > 1 {
			x = make([]float32, items*spec.ItemLen())
			for i, in := range group {
				copy(x[i*spec.ItemLen():], in.Data)
			}
		}
		p.mu.Lock()
		y, shape, err := p.Session.Run(x, items)
		p.mu.Unlock()
		if err != nil {
			return fmt.Errorf("inference: %w", err)
		}
		outPer := len(y) / items
		for i := range group {
			group[i].Out, group[i].Dims = y[i*outPer:(i+1)*outPer], shape[1:]
		}
	}
	return nil
}

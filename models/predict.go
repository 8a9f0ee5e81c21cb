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

// TileCount is the number of model inputs a w x h image is cut into.
func (p *Predictor) TileCount(w, h int) int {
	if p.Tile == (image.Point{}) {
		return 1
	}
	return len(Tiles(w, h, p.Tile.X, p.Tile.Y, p.Overlap))
}

// predUnit is one model input of an image and its placement.
type predUnit struct {
	in    []float32
	tile  Tile
	place Placement
}

// Predict returns the probability of the person class for every pixel of
// img (8-bit BGR), row-major, len Cols*Rows. Values are what the model
// gave: NaN or Inf pass through for the caller to count.
func (p *Predictor) Predict(img gocv.Mat) ([]float32, error) {
	if p.Session == nil {
		return nil, fmt.Errorf("predict: no session")
	}
	spec := p.Session.Spec
	w, h := img.Cols(), img.Rows()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("predict: empty image")
	}
	tiled := p.Tile != (image.Point{})
	tiles := []Tile{{X: 0, Y: 0, W: w, H: h}}
	if tiled {
		tiles = Tiles(w, h, p.Tile.X, p.Tile.Y, p.Overlap)
	}
	units := make([]predUnit, 0, len(tiles))
	for _, tl := range tiles {
		u := predUnit{in: make([]float32, spec.ItemLen()), tile: tl}
		src := img
		if len(tiles) > 1 || tl.W != w || tl.H != h {
			src = img.Region(image.Rect(tl.X, tl.Y, tl.X+tl.W, tl.Y+tl.H))
		}
		fit := p.Fit
		if tiled && (tl.W < spec.Width || tl.H < spec.Height) {
			fit = FitPad // an image smaller than a tile: pad, don't scale
		}
		u.place = Place(fit, tl.W, tl.H, spec.Width, spec.Height)
		err := spec.Preprocess(src, u.place, u.in)
		if src.Ptr() != img.Ptr() {
			src.Close()
		}
		if err != nil {
			return nil, err
		}
		units = append(units, u)
	}

	per := max(p.Batch, 1)
	if spec.Batch > 0 {
		per = spec.Batch
	}
	var blend *Blender
	if tiled {
		blend = NewBlender(w, h, p.Overlap)
	}
	plane := make([]float32, spec.Width*spec.Height)
	for start := 0; start < len(units); start += per {
		group := units[start:min(start+per, len(units))]
		items := len(group)
		if spec.Batch > 0 {
			items = spec.Batch
		}
		x := group[0].in
		if items > 1 {
			x = make([]float32, items*spec.ItemLen())
			for i, u := range group {
				copy(x[i*spec.ItemLen():], u.in)
			}
		}
		p.mu.Lock()
		y, shape, err := p.Session.Run(x, items)
		p.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("inference: %w", err)
		}
		outPer := len(y) / items
		for i, u := range group {
			if err := spec.Probability(y[i*outPer:(i+1)*outPer], shape[1:], plane); err != nil {
				return nil, err
			}
			prob, err := Restore(plane, u.place, u.tile.W, u.tile.H)
			if err != nil {
				return nil, err
			}
			if blend == nil {
				return prob, nil
			}
			blend.Add(u.tile, prob)
		}
	}
	return blend.Result(), nil
}

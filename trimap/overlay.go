package trimap

import "fmt"

// DrawBoundaries returns a copy of im with the superpixel boundaries drawn
// in the colour bgr (blue, green, red): a pixel is on a boundary when its
// right or lower neighbour has another label, which gives lines one pixel
// wide. It is the picture of `segtool superpixels`.
func DrawBoundaries(im Image, sp *Superpixels, bgr [3]uint8) (Image, error) {
	if err := im.check(); err != nil {
		return Image{}, err
	}
	if sp == nil || sp.W != im.W || sp.H != im.H || len(sp.Labels) != im.W*im.H {
		return Image{}, fmt.Errorf("%w: superpixels do not match the %dx%d image", ErrBadInput, im.W, im.H)
	}
	out := Image{W: im.W, H: im.H, Pix: append([]uint8(nil), im.Pix...)}
	w, h, l := im.W, im.H, sp.Labels
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := y*w + x
			if (x+1 < w && l[p+1] != l[p]) || (y+1 < h && l[p+w] != l[p]) {
				copy(out.Pix[3*p:3*p+3], bgr[:])
			}
		}
	}
	return out, nil
}

// TrimapOverlay returns a copy of im for looking at a trimap: background
// pixels darkened to a third, unknown pixels tinted towards bgr by half,
// foreground pixels unchanged.
func TrimapOverlay(im Image, trimap Gray, bgr [3]uint8) (Image, error) {
	if err := im.check(); err != nil {
		return Image{}, err
	}
	if err := trimap.check("trimap"); err != nil {
		return Image{}, err
	}
	if trimap.W != im.W || trimap.H != im.H {
		return Image{}, fmt.Errorf("%w: image is %dx%d but trimap is %dx%d", ErrBadInput, im.W, im.H, trimap.W, trimap.H)
	}
	out := Image{W: im.W, H: im.H, Pix: append([]uint8(nil), im.Pix...)}
	for p, t := range trimap.Pix {
		px := out.Pix[3*p : 3*p+3]
		switch t {
		case Background:
			for c := range px {
				px[c] /= 3
			}
		case Foreground:
		default:
			for c := range px {
				px[c] = uint8((int(px[c]) + int(bgr[c])) / 2)
			}
		}
	}
	return out, nil
}

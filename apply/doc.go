// Package apply owns what segtool does with a model's prediction on the
// user's own photos: background effects, alpha refinement, temporal
// smoothing of video frames and a before/after contact sheet, all on Mats
// and float32 planes. The job that runs them over a folder of photos and
// writes the results is jobs.Apply.
//
// # Effects
//
// Every effect takes the 8-bit BGR image I and an alpha plane a in [0, 1]
// (one float32 per pixel, row-major) and works per pixel in float32,
// rounding once to 8 bits:
//
//   - blur: out = a·I + (1 − a)·G(I), G a Gaussian of sigma Sigma. With
//     FgEdge the background layer is a normalised convolution (Knutsson &
//     Westin, "Normalized and Differential Convolution", CVPR 1993):
//     G((1 − a)·I) / G(1 − a), so foreground colour does not bleed into
//     the blurred background as a halo.
//   - replace: out = a·I + (1 − a)·B, B the new background cover-fitted to
//     the image (scaled to cover it keeping its aspect, centred crop), the
//     foreground optionally harmonised toward B (composite.Harmonize).
//   - cutout: BGRA, the image's colour with alpha round(255·a) (straight,
//     not premultiplied, as PNG stores it).
//   - matte: the alpha as an 8-bit grey plane, round(255·a).
//
// Where a = 1 the output is I exactly; where a = 0 it is the background
// layer exactly.
//
// # Refinement
//
// A segmentation model's probability p becomes the alpha by Refine: the
// mask p >= 0.5 by default, p itself with Soft; then optionally
// a trimap refinement (a superpixel trimap from the mask by
// trimap.FromSuperpixels, and inside its unknown band the alpha of a guided
// filter of the alpha on the colour image, He, Sun & Tang, "Guided Image
// Filtering", ECCV 2010, the "feathering" use of their section 4, run a
// few times with the known regions pinned); and last a feather (a box
// filter of side 2·px+1, which turns a straight step edge into a linear
// ramp 2·px+1 pixels wide). On the nine P3M portraits with SINet the
// trimap refinement lowers the mean |alpha error| over the reference
// mattes' transition pixels from 0.193 to 0.144.
//
// # Frames
//
// jobs.Apply takes a folder in natural file-name order (frame2 before
// frame10). With a temporal EMA of decay d, the probability of frame t is
// replaced by s_t = (1 − d)·p_t + d·s_(t−1) before refinement, s_0 = p_0;
// frames are predicted in parallel and smoothed strictly in order.
//
// A Model (models.Predictor, which tiles high-resolution images) gives
// the probability; a Sheet collects before/after thumbnails for a contact
// sheet. Library code here prints nothing and touches no files.
package apply

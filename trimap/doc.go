// Package trimap builds trimaps for image matting: single-channel 8-bit
// planes where 0 is background, 128 is unknown and 255 is foreground.
//
// It offers two generators and the measures used to judge them, on
// planes in memory; it knows no dataset (jobs.Trimap runs it over one).
//
// # Superpixel trimap
//
// [FromSuperpixels] follows Gupta & Raman (2017, "Automatic Trimap
// Generation for Image Matting"): the unknown band is made of whole
// superpixels, so that it follows image structure, wide around hair and thin
// along a clean shoulder. The superpixels are SLIC superpixels (Achanta et
// al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods",
// TPAMI 2012), computed by [SLIC] in Go on flat float32 CIELAB planes; on
// amd64 CPUs with AVX2 the inner loop of the assignment step is an assembly
// kernel that gives the same bits as the portable one.
//
// The rule, with alpha a in [0,1] and the defaults of [SuperpixelOptions]:
//
//  1. Segment the image into SLIC superpixels.
//  2. Label every superpixel by its coverage of the source matte:
//     foreground when its mean alpha is >= FGThresh (default 1) and no
//     pixel of it has a < 0.5; background when its mean alpha is
//     <= BGThresh (default 0) and no pixel of it has a > 0.5; unknown
//     otherwise. With the defaults a superpixel is known only when it is
//     pure (all 255 or all 0): on the test samples the starting
//     point, 0.98 and 0.02, left up to 36 % of the transition pixels
//     (0 < a < 1) outside the unknown region, and even 0.999/0.001 up to
//     2 %, against the target of 0.5 %.
//  3. Union the unknown set with a minimum band: every pixel whose
//     Euclidean distance to the nearest pixel on the other side of the 0.5
//     iso-line is <= MinBand (3) is unknown, so that a superpixel edge that
//     happens to lie on the contour still leaves an unknown band.
//  4. When MaxBand > 0 (default 0, off), cap the band: an unknown pixel
//     farther than MaxBand from every "core" pixel (a pixel of the minimum
//     band or a pixel with 0 < a < 1) is resolved to foreground when
//     a >= 0.5 and to background otherwise, so that one huge textureless
//     superpixel cannot swallow the image.
//
// A matte that is all zero (or all one) gives an all-background (or
// all-foreground) trimap and is reported through a [Flag], which the caller
// can turn into a reject line.
//
// # Morphological trimap
//
// [Morphological] is the trimap of matting training code (Deep Image Matting,
// Xu et al. 2017, and its successors): foreground is alpha == 255 eroded by
// an elliptical kernel of radius fgWidth, background is alpha == 0 eroded by
// an elliptical kernel of radius bgWidth, the rest is unknown. [MorphWidths]
// draws per-sample random widths from a range as a pure function of
// (seed, sample id), so results do not depend on scheduling.
//
// # Quality
//
// [TransitionRecall] and [UnknownAreaRatio] compare a trimap with the
// ground-truth alpha and with a human-drawn trimap. On the six
// Composition-1k-style samples of the test data, the superpixel trimap
// built from ground-truth alpha with the defaults keeps every transition
// pixel unknown (recall 1) with an unknown area 1.08 to 1.59 times the
// human one, 1.32 on average (targets: recall >= 0.995 per sample, ratio
// <= 1.5 on average).
//
// # Concurrency
//
// Nothing in the package holds global state: every function may be called
// from many goroutines at once, one image each (jobs.Trimap runs them so).
// Within one image, [SLICOptions.Workers] splits the SLIC work
// over goroutines by bands of rows; the result is byte-identical whatever
// the number of workers.
package trimap

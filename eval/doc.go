// Package eval owns segtool's evaluation: scoring a model's predictions
// against a canonical dataset's ground truth, aggregating the scores over
// the dataset, and (in the pipeline files) running the model to make them.
//
// The metrics part takes one image's planes (a Pair: the soft prediction in
// [0, 1], the 0/255 mask, the optional alpha and trimap) and Score returns
// its ImageScores: integer confusion counts at the threshold and at every sweep
// threshold, Boundary IoU and boundary-F pixel counts, and the matting error
// sums over the whole image and over the trimap's unknown region. They are
// counts and sums, not ratios, so per-image values and dataset-level
// (accumulated) values both derive from them, and they survive a JSON round
// trip exactly.
//
// The metric registry (DefaultRegistry) names every metric, its group, its
// one-line definition with citation and its conventions for empty masks;
// its PerImage and Accumulated functions turn an ImageScores or a Totals
// into a number. An Aggregator adds ImageScores in a caller-fixed order and reports,
// per metric, the accumulated value (MMSegmentation style: sum the counts,
// then divide) and the mean of the per-image values, side by side and never
// under the same name.
//
// On a clip dataset (rows with a clip and a frame) Run goes clip by clip
// instead (clips.go): each clip's frames in order through one model stream
// and one temporal filter, each frame scored as an image and given its
// temporal terms against the previous frame, from which the video metrics
// (dtSSD, flicker) and per_clip.csv derive (video_metrics.go).
//
// Score runs single-threaded apart from OpenCV's own thread pool (the
// gradient filters); a Scorer keeps its buffers between images, so use one
// per worker goroutine.
package eval

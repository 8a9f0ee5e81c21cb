// Package temporal owns the filters that smooth a clip's probability
// planes over time (moving average, MediaPipe's uncertainty-weighted
// smoothing, MODNet's one-frame delay), fed frame by frame in order.
package temporal

// Package augment owns segtool's offline data augmentation: a declarative
// pipeline of photometric, geometric and combinator ops read from YAML
// (configs/augment/ holds presets), applied to a Sample (BGR image with
// optional mask, alpha and trimap) with geometry kept aligned across all of
// them, plus a contact-sheet preview and a timing helper.
//
// Reproducibility: Pipeline.Apply draws every random value from a stream
// seeded by (seed, sample id, copy index) alone, and records the drawn
// parameters as JSON-serialisable Applied values for the manifest.
//
// Config errors (ConfigError) name the file, line and op; the sentinel
// errors (ErrUnknownOp, ...) tell their kind. This package works on Mats
// only: package jobs applies a pipeline to a canonical dataset and writes
// the copies as a new one.
//
// OpenCV's thread pool parallelises warpAffine, resize and the blurs over
// all cores; SetOpenCVThreads(1) keeps each call on its goroutine's thread,
// for a worker per core or single-threaded timing.
package augment

// Package jobs runs segtool's long jobs over datasets and folders: the
// one runner (bounded pool, journal and resume, Force staging, fail-fast,
// rejects, summary tally, preview hook and atomic commit, in Dataset and
// Update) and one file per job that plans items and calls the algorithm
// packages (trimap, augment, composite, apply's effects) on each. Video
// (video.go) is apply's effects on a video or a live source, as a
// pipeline of stages rather than a pool.
//
// Jobs sit above the data and algorithm layers and below cmd/segtool:
// they read and write the canonical dataset through package dataset, draw
// no pixel themselves, and name no command-line flag: option faults are
// *dataset.OptionError values naming an options-struct field.
package jobs

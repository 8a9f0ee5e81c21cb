// Package dataset owns segtool's canonical dataset: its on-disk layout, the
// manifest every command reads and writes, the source-layout readers
// (formats) that turn raw downloads into it, the per-sample work on pixels
// that building one needs (LoadCandidate, Planes, the Writer), and the
// checks on it. The build itself is run by package jobs.
//
// A canonical dataset is a folder:
//
//	DATASET/
//	  dataset.json            name, created, segtool version, source, options, counts, rejects
//	  manifest.jsonl          one Sample per line, sorted by id
//	  images/<id>.<jpg|png>   RGB, 8-bit
//	  masks/<id>.png          1 channel, exactly 0 or 255 (person = 255)
//	  alphas/<id>.png         1 channel 0..255, only where the source has a matte
//	  instances/<id>.png      optional instance ids, 0 = background
//	  trimaps/<id>.png        optional 0 / 128 / 255
//	  rejects.jsonl           one Reject per input that was skipped or flagged
//
// While a build runs, finished rows are appended to manifest.partial.jsonl;
// dataset.json is written last. A folder without dataset.json, or with the
// partial journal still present, is a partial dataset: readers refuse it
// (ErrPartial) and a resumed build continues it.
//
// Ids are derived from source paths (see ID), never from processing order,
// and splits from a hash of the id and a seed (see SplitFor), so adding
// samples to a source never moves old ones between splits.
package dataset

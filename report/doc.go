// Package report owns what segtool makes of finished eval runs: plots,
// the Markdown, HTML, JUnit and JSON reports, the CI regression gate, the
// comparison of two runs and the merging of sharded runs.
//
// A Run is an eval run folder as read back (results.json, run.json,
// per_image.jsonl, the dataset manifest it points at). Runs are read by
// value names (Run.Value): a metric's headline value (accumulated where
// results.json has it, else the mean of per-image values), name.mean and
// name.accumulated, timing figures (inference_p50_ms, images_per_s ...),
// and against a baseline latency ratios (p50_latency_ratio ...).
//
// Write draws the figures with gonum.org/v1/plot (PNG and SVG: per-image
// distributions, Dice/IoU against the threshold, precision against recall,
// latency histograms and CDFs, foreground fraction against Dice, the change
// against a baseline), the worst-k gallery with gocv, and writes
// report.md, report.html (self-contained), junit.xml and summary.json.
//
// A Gate (configs/regression.yaml) holds floors and ceilings, max_drop
// allowances and latency-ratio limits; Gate.Evaluate judges a run against
// a baseline, noise-aware for timings (see Evaluate), and ExitCode maps
// verdicts to 0 (pass), 1 (regression) and 2 (bad input).
//
// Compare sets two runs side by side with a per-image exact sign test;
// Merge joins shards made with eval --shard into one run whose aggregates
// equal an unsharded run's exactly.
//
// Nothing here prints; the command line does.
package report

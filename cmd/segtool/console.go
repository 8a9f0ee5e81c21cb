package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/segtool/segtool/dataset"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "workers", Aliases: []string{"j"}, Value: runtime.NumCPU(), Usage: "samples processed in parallel"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors: no progress bar, no summary"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log and summary format: text or json"},
		&cli.BoolFlag{Name: "progress", Usage: "show the progress bar even when stderr is not a terminal"},
		&cli.Int64Flag{Name: "max-pixels", Value: dataset.DefaultMaxPixels,
			Usage: "refuse input images whose header claims more pixels (width × height), before decoding them"},
	}
}

// usageError is an exit-2 error naming the flag or config line at fault.
func usageError(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), 2)
}

// requireFlags returns a usage error naming the first flag not given.
func requireFlags(c *cli.Context, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			return usageError("--%s is required (see `%s --help`)", n, c.Command.HelpName)
		}
	}
	return nil
}

// finiteFloats refuses NaN and ±Inf in the command's float flags: NaN
// passes every range check (NaN < 0 and NaN > 1 are both false) and would
// surface later as a JSON or arithmetic error, and no option means
// anything at infinity.
func finiteFloats(c *cli.Context) error {
	for _, f := range c.Command.Flags {
		if _, ok := f.(*cli.Float64Flag); !ok {
			continue
		}
		name := f.Names()[0]
		if v := c.Float64(name); c.IsSet(name) && (math.IsNaN(v) || math.IsInf(v, 0)) {
			return usageError("--%s: %v is not a finite number", name, v)
		}
	}
	return nil
}

// onUsageError adds to a flag-parsing error the flag most like a
// mistyped one (the command's or a global, which may follow the command:
// see globalsFirst) and where to read about flags.
func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	flags := c.Command.Flags
	if isSubcommand {
		flags = append(append([]cli.Flag{}, flags...), c.App.Flags...)
	}
	return usageError("%v%s (see `%s --help`)", err, didYouMean(err, flags), c.Command.HelpName)
}

// logFormatKey is where the app's Metadata keeps --log-format for
// exitCode, which prints the error after the context is gone.
const logFormatKey = "log-format"

// noteLogFormat records a valid --log-format f in app's Metadata.
func noteLogFormat(app *cli.App, f string) {
	if f != "text" && f != "json" {
		return
	}
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.Metadata[logFormatKey] = f
}

// jsonLog reports whether stderr carries JSON lines only.
func jsonLog(c *cli.Context) bool { return c.String("log-format") == "json" }

func setupConsole(c *cli.Context) error {
	switch c.String("log-format") {
	case "text", "json":
	default:
		return usageError("--log-format must be text or json, not %q", c.String("log-format"))
	}
	noteLogFormat(c.App, c.String("log-format"))
	if c.Int("workers") < 1 {
		return usageError("--workers must be at least 1, not %d", c.Int("workers"))
	}
	return nil
}

// logger returns the slog logger for --log-format, writing to stderr.
func logger(c *cli.Context) *slog.Logger {
	level := slog.LevelInfo
	if c.Bool("quiet") {
		level = slog.LevelError
	}
	o := &slog.HandlerOptions{Level: level}
	if jsonLog(c) {
		return slog.New(slog.NewJSONHandler(os.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, o))
}

// progress returns a callback drawing a progress bar on stderr, or nil
// under --quiet, and when stderr is not a terminal or carries JSON lines,
// unless --progress. The returned finish function clears the bar.
func progress(c *cli.Context, what string) (func(done, total int), func()) {
	if c.Bool("quiet") || !(c.Bool("progress") || (!jsonLog(c) && term.IsTerminal(int(os.Stderr.Fd())))) {
		return nil, func() {}
	}
	return progressBar(os.Stderr, what)
}

// progressBar draws a bar on w. The bar is drawn at zero when the first
// tick arrives, so that its clock starts there and the next drawing, a
// throttle interval later, shows a rate over that interval rather than
// over the microseconds between creating the bar and the first tick.
func progressBar(w io.Writer, what string) (func(done, total int), func()) {
	var bar *progressbar.ProgressBar
	update := func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("samples"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetRenderBlankState(true),
			)
		}
		_ = bar.Set(done)
	}
	return update, func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
}

// summary prints the end-of-command summary: a line for text, one JSON
// object for json. Nothing under --quiet.
func summary(c *cli.Context, text string, fields map[string]any) {
	if c.Bool("quiet") {
		return
	}
	out := c.App.Writer
	if jsonLog(c) {
		b, _ := json.Marshal(fields)
		fmt.Fprintln(out, string(b))
		return
	}
	// One line, never folded: summaries are read with grep.
	fmt.Fprintln(out, text)
}

// table writes rows as aligned columns.
func table(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, r := range append([][]string{header}, rows...) {
		for i, cell := range r {
			if i > 0 {
				fmt.Fprint(w, "  ")
			}
			fmt.Fprintf(w, "%-*s", widths[i], cell)
		}
		fmt.Fprintln(w)
	}
}

// sortedCounts renders a count map as rows, largest first.
func sortedCounts(m map[string]int) [][]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	rows := make([][]string, len(keys))
	for i, k := range keys {
		rows[i] = []string{k, fmt.Sprint(m[k])}
	}
	return rows
}

// countList renders a count map as "a 3, b 1", largest first.
func countList(m map[string]int) string {
	var parts []string
	for _, r := range sortedCounts(m) {
		parts = append(parts, r[0]+" "+r[1])
	}
	return strings.Join(parts, ", ")
}

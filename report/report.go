package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// Output formats.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJUnit    = "junit"
	FormatJSON     = "json"
)

// Formats returns every output format.
func Formats() []string {
	return []string{FormatMarkdown, FormatHTML, FormatJUnit, FormatJSON}
}

// Output file names.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	JUnitFile    = "junit.xml"
	SummaryFile  = "summary.json"
)

// Options say what a report holds.
type Options struct {
	// Out is the report folder.
	Out string
	// Formats to write (nil: all).
	Formats []string
	// Baseline to compare with (nil: none).
	Baseline *Run
	// Gate to apply to every run (nil or empty: no verdict).
	Gate *Gate
	// Worst is the gallery size (0: no gallery); By the per-image metric
	// that ranks it (default dice).
	Worst int
	By    string
	// Headline are the metrics shown first and plotted (nil: DefaultHeadline).
	Headline []string
	// Version is the segtool version, recorded in summary.json.
	Version string
}

// Report is what Write made.
type Report struct {
	Runs     []*Run
	Baseline *Run
	// Verdicts has one entry per run when there is a gate.
	Verdicts []Verdict
	// Warnings are baseline incompatibilities per run (also in Verdicts);
	// Notes are everything else worth knowing (unreadable parts, hardware).
	Warnings []string
	Notes    []string
	// Facts are the runs table (the runs, then the baseline with group
	// 0); Groups the runs by the samples they measured.
	Facts  []Facts
	Groups []Group
	// Table is the summary table; AP the COCO table of instance runs.
	Table   Table
	AP      *APTable
	Figures []Figure
	Gallery *Gallery
	// Files are the files written, relative to Out.
	Files []string
	opt   Options
}

// Status is the gate's overall verdict: pass, fail or error; "" without a
// gate.
func (r *Report) Status() string {
	if len(r.Verdicts) == 0 {
		return ""
	}
	switch ExitCode(r.Verdicts) {
	case 2:
		return Error
	case 1:
		return Fail
	}
	return Pass
}

// ExitCode is 0, 1 (a regression) or 2 (bad input); 0 without a gate.
func (r *Report) ExitCode() int { return ExitCode(r.Verdicts) }

// Write builds the report of runs (the first is the candidate a gallery
// shows) and writes it to o.Out.
func Write(runs []*Run, o Options) (*Report, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: no runs")
	}
	if o.Out == "" {
		return nil, fmt.Errorf("report: no output folder")
	}
	if o.Formats == nil {
		o.Formats = Formats()
	}
	for _, f := range o.Formats {
		if !slices.Contains(Formats(), f) {
			return nil, fmt.Errorf("report: unknown format %q (want md, html, junit or json)", f)
		}
	}
	if o.By == "" {
		o.By = "dice"
	}
	if o.Headline == nil {
		o.Headline = DefaultHeadline()
	}
	all := slices.Clone(runs)
	if o.Baseline != nil {
		all = append(all, o.Baseline)
	}
	Label(all)
	runs, facts, groups := grouped(runs)
	rep := &Report{Runs: runs, Baseline: o.Baseline, Facts: facts, Groups: groups, opt: o}
	if w := groupWarnings(groups); w != nil {
		if o.Gate != nil && o.Gate.Strict {
			return nil, fmt.Errorf("%w: %s", ErrNotComparable, strings.Join(w, "; "))
		}
		rep.Warnings = append(rep.Warnings, w...)
	}
	if o.Baseline != nil {
		f := o.Baseline.Facts()
		rep.Facts = append(rep.Facts, f)
	}
	for _, r := range all {
		for _, n := range r.Notes {
			rep.Notes = append(rep.Notes, r.Name+": "+n)
		}
	}
	if o.Baseline != nil {
		for _, r := range runs {
			for _, w := range Incompatible(r, o.Baseline) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s vs baseline %s: %s", r.Name, o.Baseline.Name, w))
			}
			rep.Notes = append(rep.Notes, HardwareNotes(r, o.Baseline)...)
			rep.Notes = append(rep.Notes, TrimapNotes(r, o.Baseline)...)
		}
	}
	if !o.Gate.Empty() {
		for _, r := range runs {
			rep.Verdicts = append(rep.Verdicts, o.Gate.Evaluate(r, o.Baseline))
		}
	}
	rep.Table = summaryTable(runs, o.Baseline, o.Headline, o.Gate)
	rep.AP = apTable(runs, o.Baseline)

	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{PlotsDir, GalleryDir} { // ours: stale files go
		if err := os.RemoveAll(filepath.Join(o.Out, d)); err != nil {
			return nil, err
		}
	}
	if err := rep.plot(); err != nil {
		return nil, err
	}
	if o.Worst > 0 {
		items, err := Worst(runs[0], o.Worst, o.By)
		if err != nil {
			return nil, err
		}
		rep.Gallery = &Gallery{Run: runs[0].Name, By: o.By, Items: items}
		if len(items) == 0 {
			rep.Gallery.Note = fmt.Sprintf("%s has no per-image %s values", runs[0].Name, o.By)
		} else if err := drawGallery(o.Out, runs[0], rep.Gallery); err != nil {
			return nil, err
		}
	}
	for _, f := range rep.Figures {
		rep.Files = append(rep.Files, f.PNG, f.SVG)
	}
	if rep.Gallery != nil {
		for _, it := range rep.Gallery.Items {
			if it.Panel != "" {
				rep.Files = append(rep.Files, it.Panel)
			}
		}
	}
	writers := map[string]struct {
		name string
		make func() ([]byte, error)
	}{
		FormatMarkdown: {MarkdownFile, func() ([]byte, error) { return rep.markdown(), nil }},
		FormatHTML:     {HTMLFile, rep.html},
		FormatJUnit:    {JUnitFile, rep.junit},
		FormatJSON:     {SummaryFile, rep.summaryJSON},
	}
	for _, f := range Formats() { // a fixed order
		if !slices.Contains(o.Formats, f) {
			continue
		}
		w := writers[f]
		rep.Files = append(rep.Files, w.name)
	}
	for _, f := range Formats() {
		if !slices.Contains(o.Formats, f) {
			continue
		}
		w := writers[f]
		b, err := w.make()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.name, err)
		}
		if err := dataset.WriteFileAtomic(filepath.Join(o.Out, w.name), b); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// grouped returns the runs with each group of the same samples together,
// in the order of each group's first run (so the first run stays first),
// with their facts and groups.
func grouped(runs []*Run) ([]*Run, []Facts, []Group) {
	facts, groups := FactsOf(runs)
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return facts[i].Group - facts[j].Group })
	rs, fs := make([]*Run, len(runs)), make([]Facts, len(runs))
	for k, i := range idx {
		rs[k], fs[k] = runs[i], facts[i]
	}
	return rs, fs, groups
}

// plot makes every figure the data allows.
func (rep *Report) plot() error {
	ss := makeSeries(rep.Runs, rep.Baseline)
	add := func(f *Figure, err error) error {
		if err != nil {
			return err
		}
		if f != nil {
			rep.Figures = append(rep.Figures, *f)
		}
		return nil
	}
	reg := eval.DefaultRegistry()
	var dist []string
	for _, n := range rep.opt.Headline {
		if _, ok := reg.Lookup(n); ok && !slices.Contains(dist, n) {
			dist = append(dist, n)
		}
	}
	if rep.opt.Gate != nil { // gated metrics get their distribution too
		for _, r := range rep.opt.Gate.Rules {
			if _, ok := reg.Lookup(r.Value); ok && !slices.Contains(dist, r.Value) {
				dist = append(dist, r.Value)
			}
		}
	}
	for _, m := range dist {
		if err := add(distributionFigure(rep.opt.Out, m, ss)); err != nil {
			return err
		}
	}
	for _, f := range []func(string, []series) (*Figure, error){thresholdFigure, prFigure, cocoPRFigure} {
		if err := add(f(rep.opt.Out, ss)); err != nil {
			return err
		}
	}
	for _, e2e := range []bool{false, true} {
		if err := add(latencyFigure(rep.opt.Out, e2e, ss)); err != nil {
			return err
		}
	}
	if err := add(fgFigure(rep.opt.Out, ss)); err != nil {
		return err
	}
	clipFigs, err := clipFigures(rep.opt.Out, ss)
	if err != nil {
		return err
	}
	for _, f := range clipFigs {
		rep.Figures = append(rep.Figures, *f)
	}
	if rep.Baseline != nil {
		if err := add(deltaFigure(rep.opt.Out, rep.deltaItems(), ss[:len(rep.Runs)])); err != nil {
			return err
		}
	}
	if len(rep.Figures) == 0 {
		rep.Notes = append(rep.Notes, "no plots: the runs have no per-image rows and no sweep")
	}
	return nil
}

// deltaItems are the delta chart's bars: the gate's max_drop values, then
// the headline values, each where the baseline and every run have it.
func (rep *Report) deltaItems() []deltaItem {
	var names []string
	tol := map[string]float64{}
	if rep.opt.Gate != nil {
		for _, d := range rep.opt.Gate.MaxDrop {
			if !IsRatio(d.Value) {
				names = append(names, d.Value)
				tol[d.Value] = d.Max
			}
		}
	}
	for _, n := range rep.opt.Headline {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var out []deltaItem
outer:
	for _, n := range names {
		b, err := rep.Baseline.Value(n)
		if err != nil {
			continue
		}
		it := deltaItem{name: n, tol: tol[n], unit: b.Unit}
		for _, r := range rep.Runs {
			a, err := r.Value(n)
			if err != nil {
				continue outer
			}
			d := a.V - b.V
			if !a.HigherBetter {
				d = -d
			}
			it.deltas = append(it.deltas, d)
		}
		out = append(out, it)
	}
	return out
}

// Table is the summary table: one row per value, one column per run, then
// the baseline and the first run's change against it.
type Table struct {
	Header []string   `json:"header"`
	Rows   []TableRow `json:"rows"`
}

// TableRow is one value across the runs.
type TableRow struct {
	Name  string     `json:"name"`
	Kind  string     `json:"kind"`
	Unit  string     `json:"unit"`
	Cells []*float64 `json:"cells"` // per run, then the baseline; nil where missing
	// Delta is the first run's value minus the baseline's.
	Delta *float64 `json:"delta,omitempty"`
	// Better is whether the change is an improvement (+1), a regression
	// (-1) or neither (0).
	Better int `json:"better"`
}

// summaryTable lists the headline values, the gated ones and the timings.
func summaryTable(runs []*Run, base *Run, headline []string, g *Gate) Table {
	names := slices.Clone(headline)
	if g != nil {
		for _, r := range g.Rules {
			if !IsRatio(r.Value) && !slices.Contains(names, r.Value) {
				names = append(names, r.Value)
			}
		}
		for _, d := range g.MaxDrop {
			if !slices.Contains(names, d.Value) {
				names = append(names, d.Value)
			}
		}
	}
	for _, n := range []string{"inference_p50_ms", "inference_p99_ms", "end_to_end_p50_ms", "end_to_end_p99_ms", "images_per_s"} {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	t := Table{Header: []string{"value"}}
	for _, r := range runs {
		t.Header = append(t.Header, r.Name)
	}
	cols := slices.Clone(runs)
	if base != nil {
		t.Header = append(t.Header, base.Name+" (baseline)", "change")
		cols = append(cols, base)
	}
	for _, n := range names {
		row := TableRow{Name: n}
		found := false
		var hb bool
		for _, r := range cols {
			v, err := r.Value(n)
			if err != nil {
				row.Cells = append(row.Cells, nil)
				continue
			}
			found = true
			x := v.V
			row.Cells = append(row.Cells, &x)
			row.Kind, row.Unit, hb = v.Kind, v.Unit, v.HigherBetter
		}
		if !found {
			continue
		}
		if base != nil && row.Cells[0] != nil && row.Cells[len(cols)-1] != nil {
			d := *row.Cells[0] - *row.Cells[len(cols)-1]
			row.Delta, row.Better = &d, better(d, hb)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// better is the sign of a change d for a value where higher is better when
// hb: 1 better, -1 worse, 0 unchanged.
func better(d float64, hb bool) int {
	switch {
	case d == 0:
		return 0
	case (d > 0) == hb:
		return 1
	}
	return -1
}

// summary is summary.json.
type summary struct {
	Segtool  string    `json:"segtool,omitempty"`
	Status   string    `json:"status"`
	ExitCode int       `json:"exit_code"`
	Runs     []runInfo `json:"runs"`
	Baseline *runInfo  `json:"baseline,omitempty"`
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// Groups are the runs by the samples they measured, when there are
	// several.
	Groups   []Group  `json:"groups,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	Table    Table    `json:"table"`
	AP       *APTable `json:"coco_ap,omitempty"`
	Figures  []Figure `json:"figures"`
	Gallery  *Gallery `json:"gallery,omitempty"`
	Files    []string `json:"files"`
}

type runInfo struct {
	Name    string          `json:"name"`
	Facts   Facts           `json:"facts"`
	Dir     string          `json:"dir,omitempty"`
	Model   *eval.ModelRef  `json:"model,omitempty"`
	Preds   string          `json:"preds,omitempty"`
	Dataset eval.DatasetRef `json:"dataset"`
	Counts  eval.Counts     `json:"counts"`
	Values  []Value         `json:"values"`
}

func info(r *Run, names []string) runInfo {
	ri := runInfo{Name: r.Name, Dir: r.Dir, Model: r.Results.Model, Preds: r.Results.Preds, Dataset: r.Results.Dataset, Counts: r.Results.Counts}
	for _, n := range names {
		if v, err := r.Value(n); err == nil {
			ri.Values = append(ri.Values, v)
		}
	}
	return ri
}

func (rep *Report) summaryJSON() ([]byte, error) {
	var names []string
	for _, row := range rep.Table.Rows {
		names = append(names, row.Name)
	}
	s := summary{Segtool: rep.opt.Version, Status: rep.Status(), ExitCode: rep.ExitCode(), Verdicts: rep.Verdicts,
		Warnings: rep.Warnings, Notes: rep.Notes, Table: rep.Table, AP: rep.AP, Figures: rep.Figures, Gallery: rep.Gallery, Files: rep.Files}
	if s.Status == "" {
		s.Status = "no gate"
	}
	if len(rep.Groups) > 1 {
		s.Groups = rep.Groups
	}
	for i, r := range rep.Runs {
		ri := info(r, names)
		ri.Facts = rep.Facts[i]
		s.Runs = append(s.Runs, ri)
	}
	if rep.Baseline != nil {
		b := info(rep.Baseline, names)
		b.Facts = rep.Facts[len(rep.Runs)]
		s.Baseline = &b
	}
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
)

// htmlTemplate is report.html: one page, images embedded as data URIs, no
// script, readable offline.
func htmlTemplate() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"cell":  fmtCell,
		"delta": fmtDelta,
		"num":   fmtNum4,
		"upper": strings.ToUpper,
		"inc":   func(i int) int { return i + 1 },
	}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segtool report: {{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 1.5em 3em; color: #1b1b1b; }
h1 { font-size: 1.6em; margin-bottom: .1em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.sub { color: #555; margin-top: 0; }
.verdict { padding: .7em 1em; border-radius: 6px; font-size: 1.15em; font-weight: 600; margin: 1em 0; }
.pass { background: #e3f4ea; border-left: 6px solid #1a7f37; }
.fail { background: #fde8e8; border-left: 6px solid #c62828; }
.error { background: #fff1dc; border-left: 6px solid #b35c00; }
.none { background: #f0f0f0; border-left: 6px solid #888; }
.warn { background: #fff8c5; border-left: 6px solid #bf8700; padding: .5em 1em; margin: .5em 0; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; }
.better { color: #1a7f37; } .worse { color: #c62828; }
.st-pass { color: #1a7f37; font-weight: 600; } .st-fail { color: #c62828; font-weight: 600; } .st-error { color: #b35c00; font-weight: 600; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figure img.plot { width: 840px; }
figcaption { color: #444; font-size: .92em; max-width: 900px; }
code { font-size: .92em; background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
.small { font-size: .88em; color: #444; }
</style>
</head>
<body>
<h1>segtool report</h1>
<p class="sub">{{.Title}}</p>
<div class="verdict {{.Class}}">{{.Verdict}}</div>
{{range .Warnings}}<div class="warn"><b>Warning:</b> {{.}}</div>
{{end}}
{{if .FactsHeader}}<h2>Runs</h2>
<table>
<tr>{{range .FactsHeader}}<th>{{.}}</th>{{end}}</tr>
{{range .FactsRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}<h2>Summary</h2>
<table>
<tr>{{range .Table.Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Table.Rows}}<tr><td>{{.Name}}{{if or (eq .Kind "accumulated") (eq .Kind "mean")}} <span class="small">({{.Kind}})</span>{{end}}<br><span class="small">{{.Unit}}</span></td>{{range .Cells}}<td class="n">{{cell .}}</td>{{end}}{{if $.HasBaseline}}<td class="n{{if eq .Better 1}} better{{else if eq .Better -1}} worse{{end}}">{{delta .Delta}}</td>{{end}}</tr>
{{end}}</table>
{{range .Runs}}<p class="small"><b>{{.Name}}</b>: {{.What}}. {{.Counts}}</p>
{{end}}
{{with .AP}}<h2>COCO AP</h2>
<p class="small">Box and mask AP/AR as pycocotools' COCOeval computes them; – where no object is in the area range.</p>
<table>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td><code>{{.Stat}}</code></td>{{range .Cells}}<td class="n">{{cell .}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
{{if .Verdicts}}<h2>Gate</h2>
<table>
<tr><th>run</th><th>rule</th><th>status</th><th>result</th><th>from</th></tr>
{{range .Verdicts}}{{$run := .Run}}{{range .Checks}}<tr><td>{{$run}}</td><td><code>{{.Rule}}</code></td><td class="st-{{.Status}}">{{upper .Status}}</td><td>{{.Message}}</td><td class="small">{{.Source}}</td></tr>
{{end}}{{end}}</table>
{{end}}
{{if .Figures}}<h2>Plots</h2>
{{range .Figures}}<figure><img class="plot" src="{{.Src}}" alt="{{.Title}}"><figcaption><b>{{.Title}}.</b> {{.Caption}} <span class="small">(also {{.SVG}})</span></figcaption></figure>
{{end}}{{end}}
{{with .Gallery}}{{$g := .}}<h2>Worst {{len .Items}} images of {{.Run}} by {{.By}}</h2>
<p class="small">Each row: image | ground truth | prediction | errors at the run's threshold over the dimmed image (true positives light grey, false positives orange, false negatives blue).</p>
{{if .Note}}<div class="warn">{{.Note}}</div>{{end}}
{{range $i, $it := .Items}}<figure>{{if .Src}}<img src="{{.Src}}" alt="{{.ID}}">{{end}}<figcaption>{{inc $i}}. <code>{{.ID}}</code>: {{$g.By}} {{num .Value}}{{if .Note}} ({{.Note}}){{end}}</figcaption></figure>
{{end}}{{end}}
<h2>Runs</h2>
<table>
<tr><th>run</th><th>what</th><th>where</th><th>timing</th></tr>
{{range .RunRows}}<tr><td>{{.Name}}</td><td>{{.What}}</td><td class="small">{{.Env}}</td><td class="small">{{.Timing}}</td></tr>
{{end}}</table>
{{if .Definitions}}<h2>Metric definitions</h2>
<table>
<tr><th>metric</th><th>unit</th><th>definition</th></tr>
{{range .Definitions}}<tr><td><code>{{.Name}}</code></td><td class="small">{{.Unit}}</td><td class="small">{{.Definition}}</td></tr>
{{end}}</table>
{{end}}
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p class="small">Made by segtool {{.Version}} (segtool report). Value names: a bare metric name is its accumulated value where the run has one (summed counts over the dataset, then divided), else the mean of per-image values.</p>
</body>
</html>
`)
}

// dataURI reads a report file as a data: URI.
func dataURI(dir, rel string) (template.URL, error) {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return "", err
	}
	mime := "image/png"
	if strings.HasSuffix(rel, ".jpg") {
		mime = "image/jpeg"
	}
	// The bytes are ours (plots and panels this package wrote).
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)), nil
}

func (rep *Report) html() ([]byte, error) {
	t, err := htmlTemplate()
	if err != nil {
		return nil, err
	}
	type fig struct {
		Figure
		Src template.URL
	}
	type item struct {
		GalleryItem
		Src template.URL
	}
	type gallery struct {
		Run, By, Note string
		Items         []item
	}
	type runLine struct{ Name, What, Counts, Env, Timing string }
	type def struct{ Name, Unit, Definition string }
	var d struct {
		Title, Class, Verdict, Version string
		Warnings, Notes                []string
		Table                          Table
		AP                             *APTable
		HasBaseline                    bool
		Runs, RunRows                  []runLine
		Verdicts                       []Verdict
		Figures                        []fig
		Gallery                        *gallery
		Definitions                    []def
		FactsHeader                    []string
		FactsRows                      [][]string
	}
	if len(rep.Facts) > 1 {
		d.FactsHeader, d.FactsRows = FactsTable(rep.Facts)
	}
	var names []string
	for _, r := range rep.Runs {
		names = append(names, r.Name)
	}
	d.Title = strings.Join(names, ", ")
	if rep.Baseline != nil {
		d.Title += " against " + rep.Baseline.Name
		d.HasBaseline = true
	}
	d.Class = rep.Status()
	if d.Class == "" {
		d.Class = "none"
	}
	d.Verdict = strings.NewReplacer("**", "", "✅ ", "", "❌ ", "", "⛔ ", "").Replace(rep.verdictLine())
	d.Version, d.Warnings, d.Notes, d.Table, d.Verdicts = rep.opt.Version, rep.Warnings, rep.Notes, rep.Table, rep.Verdicts
	d.AP = rep.AP
	all := rep.Runs
	if rep.Baseline != nil {
		all = append(all[:len(all):len(all)], rep.Baseline)
	}
	for i, r := range all {
		c := r.Results.Counts
		l := runLine{Name: r.Name, What: what(r),
			Counts: fmt.Sprintf("%d of %d images scored, %d errors, %d skipped, %d NaN/Inf.", c.Scored, c.Selected, c.Errors, c.Skipped, c.NonFinite)}
		if i == len(rep.Runs) {
			l.Name += " (baseline)"
		}
		e := r.Results.Environment
		l.Env = fmt.Sprintf("%s; %d cores; %s %s; %s", envLine(e), e.Cores, e.OS, e.Go, "segtool "+r.Results.Segtool.Version)
		tm := r.Results.Timing
		l.Timing = fmt.Sprintf("end to end p50 %.2f / p99 %.2f ms", tm.EndToEnd.P50, tm.EndToEnd.P99)
		if r.Results.Model != nil {
			l.Timing = fmt.Sprintf("inference p50 %.2f / p99 %.2f ms; ", tm.Inference.P50, tm.Inference.P99) + l.Timing
		}
		l.Timing += fmt.Sprintf("; %.2f images/s; peak RSS %.0f MiB", tm.Throughput, tm.PeakRSSMiB)
		if i < len(rep.Runs) {
			d.Runs = append(d.Runs, l)
		}
		d.RunRows = append(d.RunRows, l)
	}
	for _, f := range rep.Figures {
		src, err := dataURI(rep.opt.Out, f.PNG)
		if err != nil {
			return nil, err
		}
		d.Figures = append(d.Figures, fig{f, src})
	}
	if g := rep.Gallery; g != nil {
		gg := &gallery{Run: g.Run, By: g.By, Note: g.Note}
		for _, it := range g.Items {
			x := item{GalleryItem: it}
			if it.Panel != "" {
				if x.Src, err = dataURI(rep.opt.Out, it.Panel); err != nil {
					return nil, err
				}
			}
			gg.Items = append(gg.Items, x)
		}
		d.Gallery = gg
	}
	for _, m := range rep.Runs[0].Results.Metrics {
		d.Definitions = append(d.Definitions, def{m.Name, m.Unit, m.Definition})
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, &d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

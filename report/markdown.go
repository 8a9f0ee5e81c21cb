package report

import (
	"fmt"
	"strings"
)

// fmtCell prints a table value: 4 decimals for fractions, fewer
// significant digits for larger numbers.
func fmtCell(v *float64) string {
	if v == nil {
		return "–"
	}
	x := *v
	switch a := abs(x); {
	case a == 0:
		return "0"
	case a < 10:
		return fmt.Sprintf("%.4f", x)
	case a < 1000:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.0f", x)
	}
}

func fmtDelta(d *float64) string {
	if d == nil {
		return ""
	}
	s := fmtCell(d)
	if *d > 0 {
		s = "+" + s
	}
	return s
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// verdictLine is the one-line gate verdict.
func (rep *Report) verdictLine() string {
	st := rep.Status()
	n, failed, errs := 0, 0, 0
	for _, v := range rep.Verdicts {
		n += len(v.Checks)
		failed += len(v.Failed(Fail))
		errs += len(v.Failed(Error))
	}
	switch st {
	case "":
		return "No gate: no rules were given, so no verdict."
	case Pass:
		return fmt.Sprintf("✅ **Gate: PASS**: all %d rules hold.", n)
	case Fail:
		return fmt.Sprintf("❌ **Gate: FAIL**: %d of %d rules failed.", failed, n)
	default:
		refused := false
		for _, v := range rep.Verdicts {
			refused = refused || v.Refused
		}
		var why []string
		if errs > 0 {
			why = append(why, fmt.Sprintf("%d of %d rules could not be checked", errs, n))
		}
		if refused {
			why = append(why, "the baseline is not comparable (strict)")
		}
		return "⛔ **Gate: ERROR** (bad input): " + strings.Join(why, "; ") + "."
	}
}

// markdown is report.md: short enough for a pull-request comment.
func (rep *Report) markdown() []byte {
	var b strings.Builder
	names := make([]string, len(rep.Runs))
	for i, r := range rep.Runs {
		names[i] = mdCode(r.Name)
	}
	fmt.Fprintf(&b, "## segtool report: %s", strings.Join(names, ", "))
	if rep.Baseline != nil {
		fmt.Fprintf(&b, " against %s", mdCode(rep.Baseline.Name))
	}
	b.WriteString("\n\n" + rep.verdictLine() + "\n\n")
	for _, v := range rep.Verdicts {
		for _, c := range v.Checks {
			if c.Status == Pass {
				continue
			}
			who := ""
			if len(rep.Verdicts) > 1 {
				who = mdText(v.Run) + ": "
			}
			fmt.Fprintf(&b, "- %s**%s** %s: %s (%s)\n", who, strings.ToUpper(c.Status), mdCode(c.Rule), c.Message, mdText(c.Source))
		}
	}
	if len(rep.Warnings) > 0 {
		b.WriteString("\n")
		for _, w := range rep.Warnings {
			fmt.Fprintf(&b, "> ⚠️ **Warning:** %s\n", mdText(w)) // run names and paths come from users
		}
	}
	b.WriteString("\n")
	if len(rep.Facts) > 1 {
		h, rows := FactsTable(rep.Facts)
		mdTable(&b, h, rows)
		b.WriteString("\n")
	}
	t := rep.Table
	header := make([]string, len(t.Header))
	for i, h := range t.Header {
		header[i] = mdText(h)
	}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|---")
	for range t.Header[1:] {
		b.WriteString("|---:")
	}
	b.WriteString("|\n")
	for _, row := range t.Rows {
		name := mdText(row.Name)
		if row.Kind == "accumulated" || row.Kind == "mean" {
			name += " (" + row.Kind + ")"
		}
		cells := []string{name}
		for _, c := range row.Cells {
			cells = append(cells, fmtCell(c))
		}
		if rep.Baseline != nil {
			d := fmtDelta(row.Delta)
			switch row.Better {
			case 1:
				d += " ▲"
			case -1:
				d += " ▼"
			}
			cells = append(cells, d)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
	if rep.AP != nil {
		b.WriteString("COCO box and mask AP/AR (pycocotools' COCOeval; – where no object is in the area range):\n\n")
		mdTable(&b, rep.AP.Header, rep.AP.cells())
		b.WriteString("\n")
	}
	for _, r := range rep.Runs {
		c := r.Results.Counts
		fmt.Fprintf(&b, "%s: %d of %d images scored", mdCode(r.Name), c.Scored, c.Selected)
		if c.Errors+c.Skipped+c.NonFinite > 0 {
			fmt.Fprintf(&b, " (%d errors, %d skipped, %d NaN/Inf)", c.Errors, c.Skipped, c.NonFinite)
		}
		fmt.Fprintf(&b, " on %s", mdText(what(r)))
		b.WriteString(".\n")
	}
	if len(rep.Figures) > 0 {
		var links []string
		for _, f := range rep.Figures {
			links = append(links, fmt.Sprintf("[%s](%s)", f.Title, f.PNG))
		}
		b.WriteString("\nPlots: " + strings.Join(links, " · ") + "\n")
	}
	if g := rep.Gallery; g != nil {
		var items []string
		for _, it := range g.Items {
			s := fmt.Sprintf("%s %s", mdCode(it.ID), fmtNum4(it.Value))
			if it.Panel != "" {
				s = fmt.Sprintf("[%s](%s)", s, mdLink(it.Panel))
			}
			items = append(items, s)
		}
		fmt.Fprintf(&b, "\nWorst %d by %s: %s\n", len(g.Items), g.By, strings.Join(items, " · "))
		if g.Note != "" {
			fmt.Fprintf(&b, "(%s)\n", g.Note)
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n<details><summary>Notes</summary>\n\n")
		for _, n := range rep.Notes {
			b.WriteString("- " + n + "\n")
		}
		b.WriteString("\n</details>\n")
	}
	b.WriteString("\nThe full report with every plot and the worst images: `report.html`.\n")
	return []byte(b.String())
}

func fmtNum4(x float64) string { return fmt.Sprintf("%.4f", x) }

// what says what a run measured: the model (or predictions) and the data.
func what(r *Run) string {
	res := &r.Results
	m := "predictions " + res.Preds
	if res.Model != nil {
		m = fmt.Sprintf("model %s (%s, sha256 %s)", res.Model.Path, res.Model.Spec.Name, short(res.Model.SHA256))
	}
	return fmt.Sprintf("%s, dataset %s (manifest %s, splits %s)", m, res.Dataset.Path, short(res.Dataset.ManifestSHA256), splitsText(res.Dataset.Splits))
}

func splitsText(s []string) string {
	if len(s) == 0 {
		return "all"
	}
	return strings.Join(s, ",")
}

// mdTable writes a table of names (escaped), left-aligned.
func mdTable(b *strings.Builder, header []string, rows [][]string) {
	row := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = mdText(c)
		}
		b.WriteString("| " + strings.Join(esc, " | ") + " |\n")
	}
	row(header)
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, r := range rows {
		row(r)
	}
}

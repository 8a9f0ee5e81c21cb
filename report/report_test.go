package report

import (
	"encoding/json"
	"encoding/xml"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
)

// reportFixture evaluates two prediction sets on a 6-image dataset: "new"
// (masks eroded by 1..4 px) and "old" (eroded 2 px more, the worse
// baseline), and returns their run folders.
func reportFixture(t *testing.T) (newRun, oldRun string) {
	t.Helper()
	ds := demoDataset(t, 6)
	dir := t.TempDir()
	for _, r := range []struct {
		name  string
		extra int
	}{{"new", 0}, {"old", 2}} {
		preds := filepath.Join(dir, "preds-"+r.name)
		writePreds(t, ds, preds, r.extra)
		predsRun(t, ds, preds, filepath.Join(dir, r.name), eval.Shard{})
	}
	return filepath.Join(dir, "new"), filepath.Join(dir, "old")
}

func TestWriteReport(t *testing.T) {
	newDir, oldDir := reportFixture(t)
	g := NewGate()
	for _, s := range []string{"dice >= 0.5", "boundary_iou >= 0.99", "miou.mean >= 0.1"} {
		r, _ := ParseRule(s, "test")
		g.Rules = append(g.Rules, r)
	}
	g.MaxDrop = []Drop{{"dice", 0.001, "test"}}
	out := filepath.Join(t.TempDir(), "report")
	rep, err := Write([]*Run{mustLoad(t, newDir)}, Options{Out: out, Baseline: mustLoad(t, oldDir), Gate: g, Worst: 3, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status() != Fail || rep.ExitCode() != 1 {
		t.Errorf("status %s exit %d, want fail 1 (boundary_iou >= 0.99)", rep.Status(), rep.ExitCode())
	}
	c := checks(rep.Verdicts[0])
	if c["boundary_iou >= 0.99"].Status != Fail || c["dice >= 0.5"].Status != Pass || c["max_drop dice 0.001"].Status != Pass {
		t.Errorf("checks %+v", c)
	}
	kinds := map[string]int{}
	for _, f := range rep.Figures {
		kinds[f.Kind]++
		for _, p := range []string{f.PNG, f.SVG} {
			if st, err := os.Stat(filepath.Join(out, p)); err != nil || st.Size() < 2000 {
				t.Errorf("%s: %v (size %v)", p, err, st)
			}
		}
		fh, err := os.Open(filepath.Join(out, f.PNG))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(fh)
		fh.Close()
		if err != nil || cfg.Width != 1008 || cfg.Height != 648 {
			t.Errorf("%s: %v %dx%d, want a 1008x648 PNG", f.PNG, err, cfg.Width, cfg.Height)
		}
	}
	// Saved predictions have no inference times: every other kind is there.
	for _, k := range []string{"distribution", "threshold", "pr", "latency", "fg", "delta"} {
		if kinds[k] == 0 {
			t.Errorf("no %s figure (have %v)", k, kinds)
		}
	}
	if rep.Gallery == nil || len(rep.Gallery.Items) != 3 || rep.Gallery.Note != "" {
		t.Fatalf("gallery %+v", rep.Gallery)
	}
	for i, it := range rep.Gallery.Items {
		if it.Panel == "" {
			t.Errorf("worst %d (%s) has no panel: %s", i, it.ID, it.Note)
		}
		if i > 0 && it.Value < rep.Gallery.Items[i-1].Value {
			t.Errorf("gallery not worst first: %+v", rep.Gallery.Items)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, MarkdownFile))
	for _, want := range []string{"Gate: FAIL", "boundary_iou >= 0.99", "| dice (accumulated) |", "plots/dist_dice.png", "gallery/01_"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if n := len(strings.Split(string(md), "\n")); n > 60 {
		t.Errorf("report.md has %d lines: too long for a PR comment", n)
	}
	var sum map[string]any
	b, _ := os.ReadFile(filepath.Join(out, SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil || sum["status"] != "fail" || sum["exit_code"] != 1.0 {
		t.Errorf("summary.json: %v status %v exit %v", err, sum["status"], sum["exit_code"])
	}
}

// TestGalleryWithoutPreds: a run without preds/ says so instead of
// drawing.
func TestGalleryWithoutPreds(t *testing.T) {
	newDir, _ := reportFixture(t)
	if err := os.RemoveAll(filepath.Join(newDir, eval.PredsDir)); err != nil {
		t.Fatal(err)
	}
	rep, err := Write([]*Run{mustLoad(t, newDir)}, Options{Out: t.TempDir(), Worst: 2, Formats: []string{FormatMarkdown}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gallery == nil || !strings.Contains(rep.Gallery.Note, "saving its predictions") || rep.Gallery.Items[0].Panel != "" {
		t.Errorf("gallery %+v", rep.Gallery)
	}
}

// The common JUnit XML shape (the Ant JUnit task's, which Jenkins,
// GitLab and the GitHub test reporters read): testsuites > testsuite >
// testcase > failure|error, with these attributes.
type xTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    *int     `xml:"tests,attr"`
	Failures *int     `xml:"failures,attr"`
	Errors   *int     `xml:"errors,attr"`
	Suites   []struct {
		Name     *string `xml:"name,attr"`
		Tests    *int    `xml:"tests,attr"`
		Failures *int    `xml:"failures,attr"`
		Errors   *int    `xml:"errors,attr"`
		Skipped  *int    `xml:"skipped,attr"`
		Time     *string `xml:"time,attr"`
		Cases    []struct {
			Name      *string    `xml:"name,attr"`
			Classname *string    `xml:"classname,attr"`
			Time      *string    `xml:"time,attr"`
			Failure   []xProblem `xml:"failure"`
			Error     []xProblem `xml:"error"`
			Any       []xml.Name `xml:",any"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type xProblem struct {
	Message *string `xml:"message,attr"`
	Type    *string `xml:"type,attr"`
	Text    string  `xml:",chardata"`
}

func TestJUnitShape(t *testing.T) {
	dir := t.TempDir()
	base := mustLoad(t, resultsFile(t, dir, "base", map[string]float64{"dice": 0.95}, 10, nil))
	run := mustLoad(t, resultsFile(t, dir, "run", map[string]float64{"dice": 0.94}, 10, nil))
	g := NewGate()
	for _, s := range []string{"dice >= 0.9", "dice >= 0.95", "miou >= 0.9"} {
		r, _ := ParseRule(s, "g.yaml:1")
		g.Rules = append(g.Rules, r)
	}
	g.MaxDrop = []Drop{{"dice", 0.005, "g.yaml:4"}}
	out := t.TempDir()
	rep, err := Write([]*Run{run}, Options{Out: out, Baseline: base, Gate: g, Formats: []string{FormatJUnit}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60s", b)
	}
	var x xTestsuites
	if err := xml.Unmarshal(b, &x); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
	}
	if x.Tests == nil || x.Failures == nil || x.Errors == nil || len(x.Suites) != 1 {
		t.Fatalf("testsuites attributes or suites missing:\n%s", b)
	}
	s := x.Suites[0]
	if s.Name == nil || s.Tests == nil || s.Failures == nil || s.Errors == nil || s.Skipped == nil || s.Time == nil {
		t.Fatalf("testsuite attributes missing:\n%s", b)
	}
	// 3 rules + 1 max_drop + "baseline is comparable".
	if *s.Tests != 5 || len(s.Cases) != 5 || *x.Tests != 5 {
		t.Errorf("tests %d, cases %d, want 5", *s.Tests, len(s.Cases))
	}
	fails, errs := 0, 0
	byName := map[string]int{}
	for i, c := range s.Cases {
		if c.Name == nil || c.Classname == nil || c.Time == nil {
			t.Errorf("testcase %d lacks name, classname or time", i)
			continue
		}
		byName[*c.Name] = i
		for _, n := range c.Any {
			switch n.Local {
			case "failure", "error", "skipped", "system-out", "system-err":
			default:
				t.Errorf("testcase %s has a <%s>", *c.Name, n.Local)
			}
		}
		for _, p := range append(c.Failure, c.Error...) {
			if p.Message == nil || *p.Message == "" || p.Type == nil || p.Text == "" {
				t.Errorf("testcase %s: failure/error without message, type or text", *c.Name)
			}
		}
		fails += len(c.Failure)
		errs += len(c.Error)
	}
	if fails != *s.Failures || errs != *s.Errors || fails != *x.Failures || errs != *x.Errors {
		t.Errorf("counts: %d failures, %d errors in cases; suite says %d, %d", fails, errs, *s.Failures, *s.Errors)
	}
	want := map[string]string{"dice >= 0.9": "", "dice >= 0.95": "failure", "miou >= 0.9": "error", "max_drop dice 0.005": "failure", "baseline is comparable": ""}
	for name, kind := range want {
		i, ok := byName[name]
		if !ok {
			t.Errorf("no testcase %q", name)
			continue
		}
		c := s.Cases[i]
		got := ""
		if len(c.Failure) > 0 {
			got = "failure"
			if !strings.Contains(*c.Failure[0].Message, "0.94") {
				t.Errorf("%s: failure message %q lacks the value", name, *c.Failure[0].Message)
			}
		}
		if len(c.Error) > 0 {
			got = "error"
		}
		if got != kind {
			t.Errorf("%s: %q, want %q", name, got, kind)
		}
	}
	if rep.ExitCode() != 2 {
		t.Errorf("exit %d, want 2 (miou is missing)", rep.ExitCode())
	}
}

// chromium finds a headless Chromium, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("skipping: no Chromium (/usr/bin/chromium; Debian package chromium) to render report.html")
	return ""
}

// imgCheck is injected into a copy of the page: on load it writes how many
// images there are and which did not decode into the DOM, which
// --dump-dom prints.
const imgCheck = `<script>
window.addEventListener('load', function () {
  var imgs = document.images, bad = [];
  for (var i = 0; i < imgs.length; i++) {
    if (!(imgs[i].complete && imgs[i].naturalWidth > 0)) bad.push(imgs[i].alt);
  }
  var p = document.createElement('pre');
  p.id = 'imgcheck';
  p.textContent = 'images=' + imgs.length + ' broken=' + bad.length + ' [' + bad.join('|') + ']';
  document.body.appendChild(p);
});
</script>
</body>`

// renderImages loads page in headless Chromium and returns the number of
// images and the broken ones.
func renderImages(t *testing.T, browser, page string) (int, int, string) {
	t.Helper()
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--virtual-time-budget=10000", "--dump-dom", "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`<pre id="imgcheck">images=(\d+) broken=(\d+) \[(.*?)\]</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the check script did not run; DOM tail: %.300s", out[max(0, len(out)-300):])
	}
	n, _ := strconv.Atoi(string(m[1]))
	bad, _ := strconv.Atoi(string(m[2]))
	return n, bad, string(m[3])
}

// TestHTMLInBrowser renders report.html in headless Chromium: every image
// (plots and gallery panels, all data: URIs) decodes, and the page needs
// nothing but itself (it is copied alone to an empty folder first). A
// broken image planted in a second copy is caught, so the check can fail.
func TestHTMLInBrowser(t *testing.T) {
	browser := chromium(t)
	newDir, oldDir := reportFixture(t)
	out := t.TempDir()
	rep, err := Write([]*Run{mustLoad(t, newDir)}, Options{Out: out, Baseline: mustLoad(t, oldDir), Worst: 2, Formats: []string{FormatHTML}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `src="plots/`) || strings.Contains(string(b), "<script") {
		t.Error("report.html links files or runs scripts; it should embed and be static")
	}
	alone := t.TempDir()
	page := filepath.Join(alone, "report.html")
	os.WriteFile(page, []byte(strings.Replace(string(b), "</body>", imgCheck, 1)), 0o644)
	n, bad, which := renderImages(t, browser, page)
	want := len(rep.Figures) + len(rep.Gallery.Items)
	if n != want || bad != 0 {
		t.Errorf("Chromium: %d images, %d broken (%s); want %d, none broken", n, bad, which, want)
	}
	planted := strings.Replace(string(b), "</body>", `<img alt="planted" src="data:image/png;base64,iVBORw0KGgoAAAA=">`+imgCheck, 1)
	os.WriteFile(page, []byte(planted), 0o644)
	if n, bad, which := renderImages(t, browser, page); bad != 1 || which != "planted" || n != want+1 {
		t.Errorf("planted broken image: %d images, %d broken (%s)", n, bad, which)
	}
}

// TestModelRunPlots: a model run has inference times too, so both latency
// figures are drawn; a run given as a results.json file has no rows and
// gets only what results.json holds.
func TestModelRunPlots(t *testing.T) {
	ds := demoDataset(t, 6)
	dir := t.TempDir()
	modelRun(t, ds, filepath.Join(dir, "oracle"))
	rep, err := Write([]*Run{mustLoad(t, filepath.Join(dir, "oracle"))}, Options{Out: filepath.Join(dir, "report"), Formats: []string{FormatJSON}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.PNG)
	}
	for _, want := range []string{"plots/latency_inference.png", "plots/latency_end_to_end.png", "plots/fg_vs_dice.png", "plots/threshold.png"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("no %s (have %v)", want, names)
		}
	}
	only := mustLoad(t, filepath.Join(dir, "oracle", eval.ResultsFile))
	rep, err = Write([]*Run{only}, Options{Out: filepath.Join(dir, "report2"), Worst: 3, Formats: []string{FormatMarkdown}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Figures) != 2 || rep.Figures[0].Kind != "threshold" || rep.Gallery.Note == "" {
		t.Errorf("results.json alone: figures %+v, gallery %+v", rep.Figures, rep.Gallery)
	}
}

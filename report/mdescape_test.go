package report

import "testing"

func TestMarkdownEscapes(t *testing.T) {
	for _, s := range []string{"oracle", "unet_aspp-v2.onnx", "runs/oracle-small", "demo/ds:3", "portrait_0001"} {
		if mdText(s) != s {
			t.Errorf("mdText(%q) = %q, want it unchanged", s, mdText(s))
		}
		if mdCode(s) != "`"+s+"`" {
			t.Errorf("mdCode(%q) = %q", s, mdCode(s))
		}
		if mdLink("gallery/"+s+".png") != "gallery/"+s+".png" {
			t.Errorf("mdLink(%q) = %q", s, mdLink("gallery/"+s+".png"))
		}
	}
	for in, want := range map[string]string{
		"<img src=x onerror=alert(1)>": `\<img src=x onerror=alert(1)\>`,
		"[click](http://evil)":         `\[click\](http://evil)`,
		"a|b\n# c":                     `a\|b \# c`,
		"_x_ **y**":                    `\_x\_ \*\*y\*\*`,
		"&amp; ~~z~~ \\":               `\&amp; \~\~z\~\~ \\`,
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"a`b":      "``a`b``",
		"`x``":     "``` `x`` ```",
		"l1\nl2":   "`l1 l2`",
		"<b>x</b>": "`<b>x</b>`",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := mdLink("gallery/a b) [x].png"); got != "gallery/a%20b%29%20%5Bx%5D.png" {
		t.Errorf("mdLink: %q", got)
	}
}

package report

import (
	"net/url"
	"strings"
	"unicode"
)

// Names in report.md (runs, models, datasets, ids, paths) come from users
// and downloads; these keep them from being read as Markdown or HTML, and
// leave ordinary names (letters, digits, - _ . / :) byte for byte.

// mdText backslash-escapes the punctuation that could start emphasis, a
// link, raw HTML, a table cell or an entity (CommonMark allows a backslash
// before any ASCII punctuation), and folds line breaks into spaces. An
// underscore inside a word is left alone: it cannot open emphasis there.
func mdText(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch c {
		case '\\', '`', '*', '[', ']', '<', '>', '|', '~', '&', '#', '!':
			b.WriteByte('\\')
		case '_':
			if i == 0 || i == len(r)-1 || !isWord(r[i-1]) || !isWord(r[i+1]) {
				b.WriteByte('\\')
			}
		case '\n', '\r':
			c = ' '
		}
		b.WriteRune(c)
	}
	return b.String()
}

func isWord(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// mdCode puts s in a code span whose fence is longer than any run of
// backticks in s, padded with a space where s starts or ends with one
// (CommonMark 6.1); line breaks become spaces.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdLink escapes a relative path for a link destination, segment by
// segment, so that spaces, parentheses and brackets cannot end it.
func mdLink(p string) string {
	seg := strings.Split(p, "/")
	for i, s := range seg {
		seg[i] = strings.NewReplacer("(", "%28", ")", "%29").Replace(url.PathEscape(s))
	}
	return strings.Join(seg, "/")
}

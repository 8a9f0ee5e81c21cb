package main

import (
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"
)

// cliArgs is what segtool hands urfave/cli for the command line args:
// global flags moved before the command, then positionalLast. It notes
// --log-format in app's Metadata: a bad global flag stops urfave/cli
// before it reads any, and that error too must be printed in the format
// asked for.
func cliArgs(app *cli.App, args []string) []string {
	args = positionalLast(globalsFirst(app, args))
	for i := 1; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--"; i++ {
		f, hasValue := lookupFlag(app.Flags, args[i])
		switch {
		case f == nil || !takesValue(f):
		case hasValue:
			if f.Names()[0] == "log-format" {
				_, v, _ := strings.Cut(args[i], "=")
				noteLogFormat(app, v)
			}
		case i+1 < len(args):
			if f.Names()[0] == "log-format" {
				noteLogFormat(app, args[i+1])
			}
			i++
		}
	}
	return args
}

// globalsFirst moves global flags written after the command (segtool eval
// … --quiet) in front of it, with their values: urfave/cli reads them only
// there, and which one is meant is never in doubt, since no command defines
// a flag of the same name (a command's own flag of that name would win). It
// stops at "--".
func globalsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		if f, hasValue := lookupFlag(app.Flags, args[i]); f != nil && takesValue(f) && !hasValue {
			i++
		}
		i++
	}
	if i >= len(args) || args[i] == "--" {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	head := append([]string{}, args[:i]...)
	var moved, rest []string
	rest = append(rest, args[i])
	operand := false
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			rest = append(rest, args[j:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if sub := cmd.Command(a); sub != nil && !operand {
				cmd = sub
			} else {
				operand = true
			}
			rest = append(rest, a)
			continue
		}
		// The command's own flags stay; global ones move to the front.
		dst := &rest
		f, hasValue := lookupFlag(cmd.Flags, a)
		if f == nil {
			f, hasValue = lookupFlag(app.Flags, a)
			dst = &moved
		}
		if f == nil {
			rest = append(rest, a)
			continue
		}
		*dst = append(*dst, a)
		if takesValue(f) && !hasValue && j+1 < len(args) {
			j++
			*dst = append(*dst, args[j])
		}
	}
	return append(append(head, moved...), rest...)
}

// lookupFlag returns the flag of flags that arg ("-q", "--workers=4")
// names, and whether arg carries its value.
func lookupFlag(flags []cli.Flag, arg string) (cli.Flag, bool) {
	name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f, hasValue
			}
		}
	}
	return nil, false
}

// takesValue reports whether flag f reads the next argument as its value.
func takesValue(f cli.Flag) bool {
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

// didYouMean returns " (did you mean --X?)" for a flag-parsing error about
// an undefined flag close to one of flags, or "".
func didYouMean(err error, flags []cli.Flag) string {
	const prefix = "flag provided but not defined: "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || cli.SuggestFlag == nil {
		return ""
	}
	typed := strings.TrimLeft(strings.TrimPrefix(msg, prefix), "-")
	// cli.SuggestFlag names the closest flag however far it is; a guess
	// below this Jaro-Winkler similarity (the metric it ranks by) would
	// be noise.
	const minSimilarity = 0.8
	s := cli.SuggestFlag(flags, typed, true)
	if s == "" || smetrics.JaroWinkler(strings.TrimLeft(s, "-"), typed, 0.7, 4) < minSimilarity {
		return ""
	}
	return " (did you mean " + s + "?)"
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
)

// fieldFlags names the flag of an options-struct field whose kebab-case
// form is not the flag's name. Libraries report option faults by field
// (*dataset.OptionError); only this package knows the flags.
var fieldFlags = map[string]string{
	// jobs.ApplyOptions
	"Effects":        "effect",
	"Background":     "bg",
	"Blur.Sigma":     "sigma",
	"Blur.Kernel":    "kernel",
	"Refine.Feather": "feather",
	"Refine.Radius":  "guided-radius",
	"Refine.Eps":     "guided-eps",
	// jobs.VideoOptions
	"SheetFrames": "sheet-rows",
	// eval.Config
	"Fit": "letterbox",
}

// flagOf turns an options field ("JPEGQuality", "Force/Resume") into its
// flag ("--jpeg-quality", "--force/--resume").
func flagOf(field string) string {
	var out []string
	for _, f := range strings.Split(field, "/") {
		if fl, ok := fieldFlags[f]; ok {
			out = append(out, "--"+fl)
			continue
		}
		out = append(out, "--"+kebab(f))
	}
	return strings.Join(out, "/")
}

// kebab splits a Go identifier at its word boundaries: "OutDir" is
// "out-dir", "JPEGQuality" "jpeg-quality".
func kebab(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// cliError maps a library error to what segtool prints and its exit code:
// a fault in the options exits 2 naming the flag; the errors a user fixes
// with a flag say which. What it returns is a cli.ExitCoder, so mapping an
// error twice adds nothing.
func cliError(err error) error {
	var ec cli.ExitCoder
	var oe *dataset.OptionError
	var le *dataset.LockError
	switch {
	case err == nil || errors.As(err, &ec):
		return err
	case errors.As(err, &oe):
		return usageError("%s: %v", flagOf(oe.Field), hinted(oe.Err))
	case errors.As(err, &le):
		who := "another segtool process"
		if le.PID > 0 {
			who = fmt.Sprintf("segtool process %d", le.PID)
		}
		return usageError("%s is being written by %s: wait for it to finish, or stop it", le.Dir, who)
	case errors.Is(err, dataset.ErrForeign):
		return usageError("%v; --force only replaces a folder segtool made", err)
	case errors.Is(err, dataset.ErrExists):
		return usageError("%v: pass --force to replace it, or --resume to continue it", err)
	case errors.Is(err, dataset.ErrPartial), errors.Is(err, dataset.ErrOtherOptions):
		return failure(err, hinted(err).Error())
	case errors.Is(err, jobs.ErrInterrupted):
		return failure(err, err.Error()+"; rerun with --resume to continue")
	case errors.Is(err, dataset.ErrFailFast):
		return failure(err, "--"+err.Error())
	case errors.Is(err, models.ErrNoCUDA): // "device cuda:0: ..."
		return failure(err, "--"+err.Error()+"; or pass --fallback cpu")
	case errors.Is(err, models.ErrCUDASession):
		return failure(err, err.Error()+"; or pass --fallback cpu")
	case errors.Is(err, coco.ErrResults): // a bad eval --preds FILE.json
		return usageError("--preds %v", err)
	case errors.Is(err, eval.ErrUnfinished):
		return failure(err, err.Error()+" (finish an interrupted run with eval --resume)")
	}
	return err
}

// failure is a run's failure with its message: exit 130 when the run was
// interrupted, 1 otherwise.
func failure(err error, msg string) error {
	if errors.Is(err, context.Canceled) {
		return cli.Exit(msg, 130)
	}
	return cli.Exit(msg, 1)
}

// hinted adds to an error about a partial dataset or an output made with
// other options the flags that continue or restart it; other errors pass
// unchanged.
func hinted(err error) error {
	switch {
	case errors.Is(err, dataset.ErrPartial):
		return fmt.Errorf("%w: rerun the command that wrote it with --resume, or with --force to start again", err)
	case errors.Is(err, dataset.ErrOtherOptions):
		return fmt.Errorf("%w; use --force to start again", err)
	}
	return err
}

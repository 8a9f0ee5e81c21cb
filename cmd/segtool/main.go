// Command segtool builds, checks and benchmarks portrait segmentation and
// matting datasets and models. Each subcommand lives in its own file and
// only wires flags to the library packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version and commit are set at link time by the Makefile.
var (
	version = "0.1.0-dev"
	commit  = ""
)

func newApp() *cli.App {
	app := &cli.App{
		Name:    "segtool",
		Usage:   "datasets, trimaps, augmentation and honest benchmarks for portrait segmentation and matting",
		Version: version,
		Description: `segtool turns raw portrait downloads (PFCN, AISegment, Penn-Fudan, plain folders)
into one validated canonical dataset, and every other command reads and writes
that dataset. Start with:

   segtool doctor                         # is everything installed?
   segtool demo-data --out demo/src       # a small synthetic source to play with
   segtool build-dataset --src demo/src/folder --out demo/ds
   segtool inspect demo/ds
   segtool validate demo/ds
   segtool models build unet-aspp --out demo/unet_aspp.onnx
   segtool eval --model demo/unet_aspp.onnx --dataset demo/ds --split all --save-preds
   segtool report runs/unet_aspp --out report             # plots, report.html, a gate
   segtool apply --model demo/unet_aspp.onnx --in demo/src/folder/images --out blurred

Long commands show a progress bar on a terminal (or with --progress), use all
cores (--workers), print a summary at the end, and exit 2 on usage errors,
1 on failures, 130 when interrupted.`,
		Flags:                globalFlags(),
		Before:               setupConsole,
		OnUsageError:         onUsageError,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			buildDatasetCommand(),
			compositeCommand(),
			trimapCommand(),
			superpixelsCommand(),
			augmentCommand(),
			evalCommand(),
			reportCommand(),
			runsCommand(),
			applyCommand(),
			modelsCommand(),
			benchCommand(),
			inspectCommand(),
			validateCommand(),
			exportCommand(),
			demoDataCommand(),
			doctorCommand(),
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	// Bad flags exit 2 on every command, not only the top level, and so
	// does a float flag that is not finite.
	var setUsage func([]*cli.Command)
	setUsage = func(cs []*cli.Command) {
		for _, c := range cs {
			c.OnUsageError = onUsageError
			if c.Before == nil {
				c.Before = finiteFloats
			}
			setUsage(c.Subcommands)
		}
	}
	setUsage(app.Commands)
	return app
}

// subcommandNames lists a command group's subcommands.
func subcommandNames(subs []*cli.Command) []string {
	var names []string
	for _, s := range subs {
		names = append(names, s.Name)
	}
	return names
}

// subcommandMissing is the usage error of a command group run without
// one of its subcommands, names.
func subcommandMissing(c *cli.Context, names []string) error {
	group := c.Command.Name
	if c.NArg() == 0 {
		return usageError("%s needs a subcommand: %s (see `segtool %s --help`)", group, strings.Join(names, ", "), group)
	}
	return usageError("unknown %s subcommand %q: want %s", group, c.Args().First(), strings.Join(names, ", "))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := newApp()
	err := app.RunContext(ctx, cliArgs(app, os.Args))
	stop()
	os.Exit(exitCode(app, err))
}

// positionalLast moves the operand of "models build NAME" and "models
// inspect FILE" (and "models spec FILE") behind the flags that follow it: urfave/cli stops reading
// flags at the first operand, and these commands read naturally with the
// operand first (segtool models build unet-aspp --out m.onnx).
func positionalLast(args []string) []string {
	for i := 1; i+2 < len(args); i++ {
		if args[i] != "models" {
			continue
		}
		switch args[i+1] {
		case "build", "inspect", "spec":
		default:
			return args
		}
		op := args[i+2]
		if strings.HasPrefix(op, "-") {
			return args
		}
		out := append(append([]string{}, args[:i+2]...), args[i+3:]...)
		return append(out, op)
	}
	return args
}

// exitCode prints err and maps it to segtool's exit codes: 2 for usage
// errors, 130 after an interrupt, 1 otherwise. Under --log-format json the
// error is one JSON line, like every other line on stderr.
func exitCode(app *cli.App, err error) int {
	if err == nil {
		return 0
	}
	err = cliError(err)
	var ec cli.ExitCoder
	code := 1
	switch {
	case errors.As(err, &ec):
		code = ec.ExitCode()
	case errors.Is(err, context.Canceled):
		code = 130
	}
	msg := err.Error()
	switch {
	case msg == "":
	case app.Metadata[logFormatKey] == "json":
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error(msg, "exit", code)
	default:
		fmt.Fprintln(os.Stderr, "segtool:", msg)
	}
	return code
}

package main

import (
	"fmt"
	"runtime"

	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
	"gocv.io/x/gocv"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that OpenCV and ONNX Runtime are installed and say how to fix what is missing",
		Description: `Prints the OpenCV version, the ONNX Runtime version and path, whether the
CUDA execution provider can be created, the CPU count and the Go version.
Exits 1, with a fix-it line, when something required is missing. With
--require-cuda a missing CUDA provider counts as missing too.

   segtool doctor`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "require-cuda", Usage: "fail when the CUDA execution provider is unavailable"}},
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			failed := 0
			fmt.Fprintf(w, "segtool        %s\n", version)
			fmt.Fprintf(w, "go             %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "cpus           %d\n", runtime.NumCPU())
			fmt.Fprintf(w, "opencv         %s (gocv %s)\n", gocv.OpenCVVersion(), gocv.Version())
			rt, err := models.InitRuntime()
			if err != nil {
				failed++
				fmt.Fprintf(w, "onnxruntime    MISSING: %v\n               fix: run `make deps`, or point %s at libonnxruntime.so.1\n", err, models.LibEnv)
			} else {
				fmt.Fprintf(w, "onnxruntime    %s (%s)\n", rt.Version, rt.Path)
				if err := models.CUDAProviderError(); err != nil {
					fmt.Fprintf(w, "cuda provider  no: %s\n", firstLine(err.Error()))
					fmt.Fprintf(w, "               fix: set %s to a CUDA build of ONNX Runtime with its provider libraries beside it\n", models.LibEnv)
					if c.Bool("require-cuda") {
						failed++
					}
				} else {
					fmt.Fprintf(w, "cuda provider  yes\n")
				}
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("doctor: %d problem(s)", failed), 1)
			}
			return nil
		},
	}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\x1b' {
			return s[:i]
		}
	}
	return s
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

func modelsCommand() *cli.Command {
	subs := []*cli.Command{modelsInspectCommand(), modelsSpecCommand(), modelsBuildCommand(), modelsPresetsCommand()}
	names := subcommandNames(subs)
	return &cli.Command{
		Name:      "models",
		Usage:     "look inside ONNX models, list the model presets, build benchmark models",
		UsageText: "segtool models inspect|spec|build|presets [options]",
		Description: `   segtool models inspect SINet.onnx          # inputs, outputs, opset, detected spec
   segtool models spec my_model.onnx --order RGB --norm imagenet > my.yaml
   segtool models presets                      # the built-in specs (configs/models/*.yaml)
   segtool models build unet-aspp --out unet_aspp.onnx`,
		Subcommands: subs,
		Action: func(c *cli.Context) error {
			return subcommandMissing(c, names)
		},
	}
}

func modelsInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "print an ONNX model's inputs, outputs, opset and the spec eval would use",
		UsageText: "segtool models inspect FILE.onnx [--spec NAME|FILE] [spec flags of eval]",
		Description: `Reads the file's IR version, producer, opsets and op counts, asks ONNX
Runtime for the inputs and outputs, and prints the model spec segtool eval
would run it with (YAML, ready to save under configs/models/ and edit):
--spec, else the preset named like the file, else what the shapes tell.
A spec that does not fit the model is an error, as it would be for eval.
It exits 1 when the spec is incomplete, after listing the defaults eval
would take; segtool models spec writes a complete one.`,
		Flags:  specFlags(),
		Action: runModelsInspect,
	}
}

// specFlags shape the model spec that resolveSpec reads; eval, apply,
// bench model and models inspect share them.
func specFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "spec", Usage: "model spec: a preset name or a YAML file"},
		&cli.StringFlag{Name: "input", Usage: "spec override: input tensor name"},
		&cli.StringFlag{Name: "output", Usage: "spec override: output tensor name"},
		&cli.StringFlag{Name: "layout", Usage: "spec override: NCHW or NHWC"},
		&cli.StringFlag{Name: "size", Usage: "model input size WxH, for models that take any size"},
		&cli.StringFlag{Name: "order", DefaultText: "from the spec, else RGB", Usage: "spec override: RGB or BGR"},
		&cli.Float64Flag{Name: "scale", DefaultText: "from the spec, else 1/255", Usage: "spec override: scale (x = ((p*scale - mean)/std)*post_scale, p in 0..255)"},
		&cli.StringFlag{Name: "mean", DefaultText: "from the spec, else 0", Usage: "spec override: mean per channel, e.g. 0.485,0.456,0.406"},
		&cli.StringFlag{Name: "std", DefaultText: "from the spec, else 1", Usage: "spec override: std per channel"},
		&cli.Float64Flag{Name: "post-scale", DefaultText: "from the spec, else 1", Usage: "spec override: factor after standardising"},
		&cli.StringFlag{Name: "output-kind", DefaultText: "from the spec, else read from the graph", Usage: "spec override: sigmoid, logits, softmax2 or logits2"},
		&cli.IntFlag{Name: "foreground", DefaultText: "from the spec, else 1", Usage: "spec override: person channel for softmax2/logits2"},
		&cli.BoolFlag{Name: "matte", Usage: "spec override: the output is a soft alpha matte"},
	}
}

func runModelsInspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("models inspect takes one FILE.onnx (see `%s --help`)", c.Command.HelpName)
	}
	path := c.Args().First()
	data, err := os.ReadFile(path)
	if err != nil {
		return usageError("%v", err)
	}
	info, err := onnxbuild.Inspect(data)
	if err != nil {
		return err
	}
	out := c.App.Writer
	var opsets []string
	for _, o := range info.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.Version))
	}
	fmt.Fprintf(out, "file:      %s (%.1f MB)\n", path, float64(len(data))/1e6)
	fmt.Fprintf(out, "producer:  %s %s, IR version %d, opset %s\n", info.Producer, info.ProducerVersion, info.IRVersion, strings.Join(opsets, ", "))
	fmt.Fprintf(out, "graph:     %s, %d nodes, %d parameters\n", info.Graph, info.Nodes, info.Params)
	if info.Initializers > 0 {
		var ws []string
		for _, t := range slices.Sorted(maps.Keys(info.InitTypes)) {
			ws = append(ws, fmt.Sprintf("%d %s", info.InitTypes[t], elemName(t)))
		}
		fmt.Fprintf(out, "weights:   %s initializers\n", strings.Join(ws, ", "))
	}
	var ops []string
	for _, o := range info.Ops {
		ops = append(ops, fmt.Sprintf("%s %d", o.Op, o.Count))
	}
	fmt.Fprintf(out, "ops:       %s\n", strings.Join(ops, ", "))
	mi, err := models.ReadModelInfo(path)
	if err != nil {
		return err
	}
	for _, in := range mi.Inputs {
		fmt.Fprintf(out, "input:     %s\n", in.String())
	}
	for _, o := range mi.Outputs {
		fmt.Fprintf(out, "output:    %s\n", o.String())
	}
	spec, how, err := inspectSpec(c, path, mi)
	if err != nil {
		return err
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "spec (%s):\n%s", how, indent(string(b), "  "))
	if err := spec.Validate(); err != nil {
		fmt.Fprintf(out, "incomplete: %v\n", err)
		if req, rerr := specRequest(c, path); rerr == nil {
			req.Info = &mi
			if full, ferr := models.ResolveSpec(req); ferr == nil {
				for _, n := range defaultNotes(full) {
					fmt.Fprintln(out, "eval would take the "+strings.TrimPrefix(n, "model spec default: "))
				}
			}
		}
		return cli.Exit(fmt.Sprintf("models inspect: the spec of %s is incomplete; `segtool models spec %s > my.yaml` writes a complete one", path, path), 1)
	}
	return nil
}

func modelsSpecCommand() *cli.Command {
	return &cli.Command{
		Name:      "spec",
		Usage:     "write a complete, commented model spec (YAML) for your own model",
		UsageText: "segtool models spec FILE.onnx [--order RGB|BGR] [--norm " + strings.Join(models.NormNames(), "|") + "] [spec flags of eval] > my.yaml",
		Description: `Reads the model's inputs, outputs and graph (the op before the output says
whether it gives probabilities or logits), adds your choices, and prints a
spec that eval, apply and bench take with --spec my.yaml. --norm picks the
normalisation the model was trained with:
   unit      x = p/255 (Keras, most TensorFlow models)
   signed    x = (p/255 - 0.5)/0.5, in [-1, 1]
   imagenet  torchvision's ImageNet mean/std on p/255 (most PyTorch models)
   none      x = p, 0..255
--scale, --mean, --std and --post-scale give any other; they and --norm
are exclusive. A model that takes any size needs --size.

Examples:

   segtool models spec my_model.onnx --norm imagenet > my.yaml
   segtool models spec my_unet.onnx --order BGR --norm none --size 512x512 > my.yaml`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "norm", DefaultText: "from --spec, else unit", Usage: "normalisation: " + strings.Join(models.NormNames(), ", ")},
		}, specFlags()...),
		Action: runModelsSpec,
	}
}

func runModelsSpec(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("models spec takes one FILE.onnx (see `%s --help`)", c.Command.HelpName)
	}
	path := c.Args().First()
	var pre []string
	for _, f := range []string{"scale", "mean", "std", "post-scale"} {
		if c.IsSet(f) {
			pre = append(pre, "--"+f)
		}
	}
	if c.IsSet("norm") && len(pre) > 0 {
		return usageError("--norm and %s both set the normalisation: give one", strings.Join(pre, ", "))
	}
	req, err := specRequest(c, path)
	if err != nil {
		return err
	}
	r, err := models.ResolveSpec(req)
	if err != nil {
		return err
	}
	notes := map[string]string{}
	if c.IsSet("norm") || (len(pre) == 0 && req.Spec == "" && r.Base == models.FromModel) {
		norm := c.String("norm")
		if norm == "" {
			norm = string(models.NormUnit)
		}
		if err := r.Spec.ApplyNorm(models.Norm(norm)); err != nil {
			return usageError("--norm: %v", err)
		}
		for _, k := range []string{"scale", "mean", "std", "post_scale"} {
			notes[k] = "norm " + norm
		}
		r.Spec.Source = fmt.Sprintf("segtool models spec %s (norm %s)", path, norm)
	}
	if err := r.Spec.Validate(); err != nil {
		return err
	}
	head := fmt.Sprintf("Model spec for %s, from its shapes and graph and the choices made.\nCheck order and the normalisation against how the model was trained; then\n  segtool eval --model %s --spec THIS.yaml --dataset DATASET", path, path)
	return models.WriteSpec(c.App.Writer, r, head, notes)
}

// inspectSpec resolves the spec as eval does but without the
// completeness check, so a model that takes any size can be shown with
// size 0.
func inspectSpec(c *cli.Context, path string, mi models.ModelInfo) (models.Spec, string, error) {
	req, err := specRequest(c, path)
	if err != nil {
		return models.Spec{}, "", err
	}
	req.Info, req.Partial = &mi, true
	r, err := models.ResolveSpec(req)
	var oe *dataset.OptionError
	if errors.As(err, &oe) && oe.Field == "Model" {
		return models.Spec{}, "", oe.Err // the FILE argument, not a flag: exit 1
	}
	if err != nil {
		return models.Spec{}, "", err
	}
	return r.Spec, specHow(r), nil
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "")
}

func modelsPresetsCommand() *cli.Command {
	return &cli.Command{
		Name:      "presets",
		Usage:     "list the built-in model specs",
		UsageText: "segtool models presets [NAME]",
		Description: `Without NAME, one line per preset; with NAME, its spec as YAML (the same
as configs/models/NAME.yaml).`,
		Action: func(c *cli.Context) error {
			ps := models.Presets()
			if n := c.Args().First(); n != "" {
				p, ok := ps[n]
				if !ok {
					return usageError("unknown preset %q: want one of %s", n, strings.Join(models.PresetNames(), ", "))
				}
				b, err := yaml.Marshal(p)
				if err != nil {
					return err
				}
				fmt.Fprint(c.App.Writer, string(b))
				return nil
			}
			var rows [][]string
			for _, n := range models.PresetNames() {
				p := ps[n]
				size := "any"
				if p.Width > 0 {
					size = fmt.Sprintf("%dx%d", p.Width, p.Height)
				}
				rows = append(rows, []string{n, string(p.Layout), size, p.Order, string(p.Kind), fmt.Sprint(p.Matte)})
			}
			table(c.App.Writer, []string{"preset", "layout", "size", "order", "output", "matte"}, rows)
			return nil
		},
	}
}

func modelsBuildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "write a published portrait architecture with deterministic random weights, for speed benchmarks",
		UsageText: "segtool models build " + strings.Join(onnxbuild.ArchNames(), "|") + " --out FILE.onnx [--size WxH] [--seed S] [--batch N] [--fp16 io|weights|all]",
		Description: `The graphs have the published layer structure (so inference costs what the
real model costs, FLOP for FLOP) and He-initialised random weights from
--seed: the same options write the same bytes. They are for timing, not for
accuracy; 'oracle' is the exception, a 1x1 conv and a sigmoid whose output
is exactly 1 where the red channel is >= 128 and 0 elsewhere, so tests know
the metrics a dataset must score. 'maskrcnn-toy' is the other exception: it
has torchvision Mask R-CNN's signature (images [3,H,W] RGB 0..1 in; boxes,
labels, scores, masks out) and gives one detection per colour channel whose
largest value is above 0.05: mask = channel > 0, box = the mask's extent,
score = the channel's largest value, label 1 (R, G) or 18 (B).

Each model matches the preset of the same name (segtool models presets).

--fp16 writes a half-precision variant of the same graph, to test fp16
handling: io makes the input and output float16 (fp32 inside), weights
stores the weights as float16 behind Casts (fp32 input, output and compute),
all computes in fp16 between Casts at the fp32 input and output (as
onnxconverter-common's keep_io_types conversion). The oracle then uses gain
256 so that its weights fit float16; its output is the same.

Examples:

   segtool models build unet-aspp --out unet_aspp.onnx          # NHWC 800x600, as the TensorFlow original
   segtool models build mobilenetv2-unet --out mnv2.onnx --size 512x512
   segtool models build oracle --out oracle.onnx
   segtool models build oracle --out oracle_fp16.onnx --fp16 all
   segtool models build maskrcnn-toy --out maskrcnn_toy.onnx    # eval --spec maskrcnn-toy`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output file (required)"},
			&cli.StringFlag{Name: "size", DefaultText: "the architecture's", Usage: "input size WxH"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "weight seed"},
			&cli.IntFlag{Name: "batch", Usage: "fix the batch dimension at N (default: dynamic)"},
			&cli.StringFlag{Name: "fp16", DefaultText: "none: fp32", Usage: "write an fp16 variant: io (float16 input and output), weights (float16 weights), all (fp16 compute, fp32 I/O)"},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing --out"},
		},
		Action: runModelsBuild,
	}
}

func runModelsBuild(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("models build takes one architecture: %s (see `%s --help`)", strings.Join(onnxbuild.ArchNames(), ", "), c.Command.HelpName)
	}
	if err := requireFlags(c, "out"); err != nil {
		return err
	}
	arch, err := onnxbuild.LookupArch(c.Args().First())
	if err != nil {
		return usageError("%v", err)
	}
	o := onnxbuild.Options{Seed: c.Uint64("seed"), Batch: c.Int("batch")}
	if c.IsSet("size") {
		p, err := parseSize("size", c.String("size"))
		if err != nil {
			return usageError("--size: %v", err)
		}
		o.Width, o.Height = p.X, p.Y
	}
	if _, _, err := arch.Size(o); err != nil {
		return usageError("--size: %v", err)
	}
	prec := onnxbuild.FP32
	if c.IsSet("fp16") {
		p, ok := map[string]onnxbuild.Precision{"io": onnxbuild.FP16IO, "weights": onnxbuild.FP16Weights, "all": onnxbuild.FP16}[c.String("fp16")]
		if !ok {
			return usageError("--fp16 %q: want io, weights or all", c.String("fp16"))
		}
		prec = p
	}
	o.Precision = prec
	out := c.String("out")
	if _, err := os.Stat(out); err == nil && !c.Bool("force") {
		return usageError("--out %s: %v (pass --force to replace it)", out, dataset.ErrExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	m, err := arch.Build(o)
	if err != nil {
		return err
	}
	if err := dataset.WriteFileAtomic(out, m.Data); err != nil {
		return err
	}
	size := fmt.Sprintf("%dx%d", m.Width, m.Height)
	flops := fmt.Sprintf("%.2f GFLOPs per image", float64(m.FLOPs)/1e9)
	if arch.Dynamic {
		size, flops = "any size", fmt.Sprintf("%d FLOPs per pixel", m.FLOPs)
		if m.FLOPs == 0 {
			flops = "FLOPs not counted"
		}
	}
	what := strings.Join(slices.DeleteFunc([]string{arch.Framework, arch.Layout + " " + size, arch.Kind, string(prec)}, func(s string) bool { return s == "" }), ", ")
	summary(c, fmt.Sprintf("models build: %s (%s) written to %s: %.1f MB, %d parameters, %s.",
		arch.Name, what, out, float64(len(m.Data))/1e6, m.Params, flops),
		map[string]any{"command": "models build", "arch": arch.Name, "precision": string(prec), "out": out, "bytes": len(m.Data), "params": m.Params, "flops": m.FLOPs, "width": m.Width, "height": m.Height})
	return nil
}

// elemName names an ONNX TensorProto element type.
func elemName(t int32) string {
	switch t {
	case onnxbuild.TypeFloat:
		return "float32"
	case onnxbuild.TypeFloat16:
		return "float16"
	case onnxbuild.TypeInt64:
		return "int64"
	}
	return fmt.Sprintf("type-%d", t)
}

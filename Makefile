# segtool: `make demo` runs the main job end to end on data it draws itself;
# `make test` runs every check. Both install what they need first (make deps).

SHELL := /bin/bash
GO ?= go
BIN := bin/segtool

# ONNX Runtime comes from the onnxruntime-node npm package, pinned and
# checked: the tarball's and the library's sha256 must both match.
ORT_VERSION := 1.30.0
ORT_TGZ_SHA256 := 6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA256 := ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DIR := $(CURDIR)/.ort
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

LDFLAGS := -X main.version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev) \
           -X main.commit=$(shell git rev-parse HEAD 2>/dev/null) \
           -X github.com/segtool/segtool/models.DefaultORTDir=$(ORT_DIR)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps opencv ort chromium pycocotools build test check lint unit matprofile gate bench same-output fuzz demo gpu-pack gpu-dryrun clean

deps: opencv ort chromium pycocotools

# Debian's libopencv-dev (OpenCV 4.6) matches gocv v0.31.
opencv:
	@pkg-config --exists opencv4 || { \
	  echo "installing libopencv-dev (OpenCV for gocv)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libopencv-dev pkg-config gstreamer1.0-plugins-base >/dev/null; }
	@# GStreamer's videotestsrc stands in for a camera in the live-video tests.
	@dpkg -s gstreamer1.0-plugins-base >/dev/null 2>&1 || { \
	  echo "installing gstreamer1.0-plugins-base (videotestsrc, for the live-video tests)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gstreamer1.0-plugins-base >/dev/null; }
	@echo "opencv $$(pkg-config --modversion opencv4)"

# Debian's Chromium renders report.html in the report package's browser
# test; without it that test skips, so a failed install is not an error.
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (for the HTML report test)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null || \
	  echo "chromium not installed: the HTML report test will skip"; }

# pycocotools, the reference of package coco's golden tests, built from
# ../shared/tools/cocoapi (build.sh apt-installs cython3 and numpy once).
# Without ../shared, or if the build fails, those tests skip.
SHARED ?= $(or $(SEGTOOL_SHARED),$(CURDIR)/../shared)
pycocotools:
	@if [ -x $(SHARED)/tools/cocoapi/build.sh ]; then \
	  $(SHARED)/tools/cocoapi/build.sh >/dev/null && echo "pycocotools built for /usr/bin/python3" || \
	  echo "pycocotools not built: the COCO golden tests will skip"; \
	fi

ort:
	@if [ -f $(ORT_LIB) ] && echo "$(ORT_LIB_SHA256)  $(ORT_LIB)" | sha256sum -c --status; then \
	  echo "onnxruntime $(ORT_VERSION) $(ORT_LIB)"; \
	else \
	  set -e; mkdir -p .cache $(ORT_DIR); \
	  tgz=.cache/onnxruntime-node-$(ORT_VERSION).tgz; \
	  if ! { [ -f $$tgz ] && echo "$(ORT_TGZ_SHA256)  $$tgz" | sha256sum -c --status; }; then \
	    echo "fetching onnxruntime-node@$(ORT_VERSION) with npm pack"; \
	    (cd .cache && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null); \
	  fi; \
	  echo "$(ORT_TGZ_SHA256)  $$tgz" | sha256sum -c --quiet; \
	  tar -xzf $$tgz -C .cache package/bin/napi-v6/linux/x64/libonnxruntime.so.1; \
	  echo "$(ORT_LIB_SHA256)  .cache/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c --quiet; \
	  mv .cache/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $(ORT_LIB); \
	  rm -rf .cache/package; \
	  echo "onnxruntime $(ORT_VERSION) unpacked to $(ORT_LIB)"; \
	fi

build: opencv
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/segtool

check: opencv
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

lint: opencv
	@[ -x $(STATICCHECK) ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

# -timeout: cmd/segtool alone takes about 2 minutes; beside the other
# packages on a loaded 2-core machine go test's 10-minute default is too close.
unit: deps
	$(GO) test -count=1 -timeout 30m ./...

# gocv's matprofile tag counts live Mats: these tests prove long runs
# close every Mat they open.
matprofile: deps
	$(GO) test -count=1 -timeout 30m -tags matprofile -run MatProfile ./...

test: deps check lint unit matprofile gate

# segtool gates itself: the oracle model on the demo dataset against the run
# committed in configs/baseline/oracle-demo (see configs/gate-demo.yaml).
# A change that moves a metric fails here, with the report in $(GATE)/report.
GATE := .cache/gate
gate: build
	@rm -rf $(GATE)
	$(SEGTOOL) --quiet demo-data --out $(GATE)/src --count 12 --seed 7
	$(SEGTOOL) --quiet build-dataset --src $(GATE)/src/folder --out $(GATE)/ds
	$(SEGTOOL) --quiet models build oracle --out $(GATE)/oracle.onnx
	$(SEGTOOL) --quiet eval --model $(GATE)/oracle.onnx --size 256x320 --dataset $(GATE)/ds --split all \
	  --out $(GATE)/run --save-preds
	$(SEGTOOL) report $(GATE)/run --baseline configs/baseline/oracle-demo --gate configs/gate-demo.yaml \
	  --out $(GATE)/report --worst 4 --format md,junit,json

# The dataset jobs' outputs, byte for byte, against a base commit
# (BASE=rev; default .ci/same-output.base, the commit before the runner).
same-output: deps
	bash .ci/same-output.sh $(BASE)

# Every Go native fuzz target in the repo (found with go test -list, so a
# new Fuzz* needs no entry here), FUZZTIME each. `make test` runs only
# their seed corpora (testdata/fuzz/<Name>), as plain tests.
FUZZTIME ?= 30s
fuzz: deps
	@set -eo pipefail; $(GO) test -list '^Fuzz' ./... | \
	  awk '/^Fuzz/ {n[++c] = $$1} /^ok/ {for (i = 1; i <= c; i++) print $$2, n[i]; c = 0}' | \
	  while read -r pkg name; do \
	    echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
	    $(GO) test "$$pkg" -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME); \
	  done

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...

DEMO := demo
SEGTOOL := ./$(BIN)
demo: deps build
	$(SEGTOOL) doctor
	$(SEGTOOL) demo-data --out $(DEMO)/src --count 12 --seed 7 --force
	$(SEGTOOL) build-dataset --src $(DEMO)/src/folder --out $(DEMO)/ds --force
	$(SEGTOOL) build-dataset --src $(DEMO)/src/pennfudan --out $(DEMO)/ds-pennfudan --force
	$(SEGTOOL) inspect $(DEMO)/ds
	$(SEGTOOL) validate $(DEMO)/ds
	$(SEGTOOL) validate $(DEMO)/ds-pennfudan
	$(SEGTOOL) demo-data --video --out $(DEMO)/clips --seed 7 --force
	$(SEGTOOL) build-dataset --format videomatte --src $(DEMO)/clips/videomatte --out $(DEMO)/ds-clips --force
	$(SEGTOOL) validate $(DEMO)/ds-clips
	$(SEGTOOL) export --format coco --dataset $(DEMO)/ds-pennfudan --out $(DEMO)/pennfudan-coco.json --force
	$(SEGTOOL) build-dataset --src $(DEMO)/src/folder --out $(DEMO)/ds-320x240 --resize 320x240 --force
	$(SEGTOOL) composite --fg $(DEMO)/src/cutouts --bg procedural:stripes,checks,noise,gradient,blobs --out $(DEMO)/comp \
	  --per-fg 3 --seed 1 --size 320x400 --scale 0.6,0.95 --flip --preview 6 --force
	$(SEGTOOL) validate $(DEMO)/comp
	$(SEGTOOL) augment --check configs/augment/imgaug-portrait.yaml
	$(SEGTOOL) augment --config imgaug-portrait --dataset $(DEMO)/ds --out $(DEMO)/aug \
	  --copies 2 --seed 1 --include-originals --preview 4 --force
	$(SEGTOOL) validate $(DEMO)/aug
	$(SEGTOOL) bench augment --config configs/augment/imgaug-portrait.yaml --dataset $(DEMO)/ds -n 100
	$(SEGTOOL) trimap --dataset $(DEMO)/ds --out-dir trimaps-sp --report
	$(SEGTOOL) trimap --dataset $(DEMO)/ds --method erode --width-range 1,30 --seed 1 --out-dir trimaps-erode
	$(SEGTOOL) validate $(DEMO)/ds
	$(SEGTOOL) superpixels --image $(DEMO)/src/folder/images/portrait_0000.jpg --out $(DEMO)/superpixels.png
	$(SEGTOOL) bench slic -n 5
	$(SEGTOOL) models presets
	$(SEGTOOL) models build oracle --out $(DEMO)/oracle.onnx --force
	$(SEGTOOL) models build unet-aspp --out $(DEMO)/unet_aspp.onnx --force
	$(SEGTOOL) models inspect $(DEMO)/unet_aspp.onnx
	$(SEGTOOL) models spec $(DEMO)/unet_aspp.onnx --norm unit > $(DEMO)/unet_aspp.spec.yaml
	$(SEGTOOL) eval --model $(DEMO)/oracle.onnx --size 256x320 --dataset $(DEMO)/ds --split all \
	  --out $(DEMO)/runs/oracle --save-preds --save-overlays --force
	$(SEGTOOL) eval --preds $(DEMO)/runs/oracle/preds --dataset $(DEMO)/ds --split all --out $(DEMO)/runs/oracle-preds --force
	$(SEGTOOL) eval --model $(DEMO)/unet_aspp.onnx --dataset $(DEMO)/ds --split all --out $(DEMO)/runs/unet_aspp --force
	$(SEGTOOL) bench --model $(DEMO)/unet_aspp.onnx -n 5
	$(SEGTOOL) models build oracle --fp16 io --out $(DEMO)/oracle_fp16io.onnx --force
	$(SEGTOOL) eval --model $(DEMO)/oracle_fp16io.onnx --spec oracle --size 256x320 --dataset $(DEMO)/ds --split all --batch 4 \
	  --out $(DEMO)/runs/oracle-fp16io --force
	$(SEGTOOL) report compare $(DEMO)/runs/oracle $(DEMO)/runs/oracle-fp16io
	$(SEGTOOL) eval --model $(DEMO)/oracle.onnx --size 256x320 --dataset $(DEMO)/ds --split all --device cuda --fallback cpu \
	  --cudnn-conv-algo-search heuristic --out $(DEMO)/runs/oracle-cuda --force
	$(SEGTOOL) doctor --json > $(DEMO)/doctor.json
	$(SEGTOOL) eval --model $(DEMO)/oracle.onnx --size 128x160 --dataset $(DEMO)/ds --split all \
	  --out $(DEMO)/runs/oracle-small --save-preds --force
	$(SEGTOOL) eval --model $(DEMO)/oracle.onnx --size 256x320 --dataset $(DEMO)/ds --split all --shard 0/2 \
	  --out $(DEMO)/runs/oracle-shard0 --save-preds --force
	$(SEGTOOL) eval --model $(DEMO)/oracle.onnx --size 256x320 --dataset $(DEMO)/ds --split all --shard 1/2 \
	  --out $(DEMO)/runs/oracle-shard1 --save-preds --force
	$(SEGTOOL) report merge $(DEMO)/runs/oracle-shard0 $(DEMO)/runs/oracle-shard1 --out $(DEMO)/runs/oracle-merged --force
	$(SEGTOOL) report compare $(DEMO)/runs/oracle-small $(DEMO)/runs/oracle
	$(SEGTOOL) models build maskrcnn-toy --out $(DEMO)/maskrcnn_toy.onnx --force
	$(SEGTOOL) eval --model $(DEMO)/maskrcnn_toy.onnx --spec maskrcnn-toy --dataset $(DEMO)/ds-pennfudan --split all \
	  --out $(DEMO)/runs/maskrcnn-toy --save-preds --force
	@# The clips scored clip by clip, with and without a temporal filter. The
	@# oracle (red >= 128) misses these portraits, so the predictions are the
	@# clips' own masks (alpha >= 128), a hard-edged segmenter's output whose
	@# edges jitter from frame to frame: dtSSD and flicker are not zero.
	$(SEGTOOL) eval --preds $(DEMO)/ds-clips/masks --dataset $(DEMO)/ds-clips --split all --temporal none \
	  --out $(DEMO)/runs/clips-none --force
	$(SEGTOOL) eval --preds $(DEMO)/ds-clips/masks --dataset $(DEMO)/ds-clips --split all --temporal ema:0.5 \
	  --out $(DEMO)/runs/clips-ema --force
	$(SEGTOOL) runs ls $(DEMO)/runs
	$(SEGTOOL) runs show $(DEMO)/runs/oracle
	$(SEGTOOL) report $(DEMO)/runs/oracle $(DEMO)/runs/unet_aspp --baseline $(DEMO)/runs/oracle-small --out $(DEMO)/report --worst 6 --force
	$(SEGTOOL) report $(DEMO)/runs/oracle --baseline $(DEMO)/runs/oracle-merged --out $(DEMO)/report-gate --strict \
	  --rule "dice >= 0.40" --max-drop dice=0.005 --max-drop miou=0.005 --force
	$(SEGTOOL) report $(DEMO)/runs/clips-none $(DEMO)/runs/clips-ema --out $(DEMO)/report-clips --force
	$(SEGTOOL) apply --model $(DEMO)/oracle.onnx --size 256x320 --in $(DEMO)/src/folder/images --out $(DEMO)/apply/oracle \
	  --effect all --bg $(DEMO)/src/pennfudan/PNGImages/SynthPed00002.png --blur-fg-edge --sheet $(DEMO)/apply/oracle-sheet.jpg --force
	$(SEGTOOL) apply --preds $(DEMO)/src/folder/alphas --in $(DEMO)/src/folder/images --out $(DEMO)/apply/truth \
	  --effect all --bg $(DEMO)/src/pennfudan/PNGImages/SynthPed00002.png --refine --blur-fg-edge \
	  --sheet $(DEMO)/apply/sheet.jpg --sheet-rows 4 --force
	$(SEGTOOL) apply --model $(DEMO)/oracle.onnx --size 256x320 --in '$(DEMO)/src/folder/images/portrait_%04d.jpg' --fps 4 \
	  --out $(DEMO)/video/clip.mp4 --effect replace --bg $(DEMO)/src/pennfudan/PNGImages/SynthPed00002.png --force
	$(SEGTOOL) apply --model $(DEMO)/oracle.onnx --size 256x320 --in $(DEMO)/video/clip.mp4 --out $(DEMO)/video/fx \
	  --effect all --bg $(DEMO)/src/pennfudan/PNGImages/SynthPed00002.png --temporal ema:0.5 --blur-fg-edge \
	  --sheet $(DEMO)/video/strip.jpg --sheet-rows 4 --sheet-cell 90 --force
	$(SEGTOOL) apply --model $(DEMO)/oracle.onnx --size 320x180 --in $(DEMO)/clips/videos/clip_000.mp4 --out $(DEMO)/video/clip_000-fx \
	  --effect blur,matte --temporal ema:0.5 --force
	$(SEGTOOL) apply --model $(DEMO)/unet_aspp.onnx --in $(DEMO)/src/folder/images --out $(DEMO)/apply/unet_aspp --effect blur --force
	@command -v chromium >/dev/null && chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1500 \
	  --screenshot=$(DEMO)/report/screenshot.png file://$(CURDIR)/$(DEMO)/report/report.html 2>/dev/null || true
	@echo "demo: datasets in $(DEMO)/ds, $(DEMO)/ds-pennfudan, $(DEMO)/comp and $(DEMO)/aug"
	@echo "demo: clips in $(DEMO)/clips (videomatte layout, videos/*.mp4) and their dataset in $(DEMO)/ds-clips"
	@echo "demo: COCO instances of $(DEMO)/ds-pennfudan in $(DEMO)/pennfudan-coco.json"
	@echo "demo: trimaps in $(DEMO)/ds/trimaps-sp and $(DEMO)/ds/trimaps-erode"
	@echo "demo: look at $(DEMO)/comp/preview.png, $(DEMO)/aug/preview.png and $(DEMO)/superpixels.png"
	@echo "demo: eval runs in $(DEMO)/runs (results.json, per_image.csv, overlays/); clips-none and clips-ema add per_clip.csv"
	@echo "demo: apply outputs in $(DEMO)/apply; look at $(DEMO)/apply/sheet.jpg and $(DEMO)/apply/oracle-sheet.jpg"
	@echo "demo: video effects in $(DEMO)/video (clip.mp4 from stills, clip_000-fx from the first demo clip)"
	@echo "demo: reports in $(DEMO)/report/report.html (three runs) and $(DEMO)/report-gate/report.html (a passing gate)"
	@echo "demo: $(DEMO)/report-clips/report.html plots dtSSD per clip with and without --temporal ema:0.5"

# Parts for the lent GPU machine (docs/gpu.md): segtool from HEAD with its
# OpenCV libraries, ONNX Runtime with the CUDA provider, and the inputs of
# .ci/gpu/verify.sh, in .gpu/p1..pN (one device call each).
gpu-pack: deps
	bash .ci/gpu/pack.sh

# Rehearse the device calls here: stage the parts into a temp root, then
# verify.sh with DEVICE=cpu QUICK=1.
gpu-dryrun:
	bash .ci/gpu/dryrun.sh

clean:
	rm -rf bin demo

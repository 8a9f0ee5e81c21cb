package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/segtool/segtool/models"
)

// doctorEnv says what this machine has, as doctor's output depends on it:
// whether the CUDA provider can be created, and why NVML lists no GPU (nil
// when it lists some). It skips when ONNX Runtime is not installed (run
// `make deps`).
func doctorEnv(t *testing.T) (cuda bool, gpusErr error) {
	t.Helper()
	if _, err := models.LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := models.InitRuntime(); err != nil {
		t.Fatal(err)
	}
	gpus, err := models.GPUs()
	if err == nil && len(gpus) == 0 {
		err = errors.New("NVML lists no GPU")
	}
	return models.CUDAProviderError() == nil, err
}

// decodeDoctor reads the JSON object doctor --json prints first (an exit
// message may follow it).
func decodeDoctor(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&m); err != nil {
		t.Fatalf("doctor --json output is not JSON: %v\n%s", err, out)
	}
	return m
}

// TestDoctorNoCUDA checks doctor with the CPU-only ONNX Runtime of `make
// deps`, on a machine without an NVIDIA driver (as CI is) or with one.
func TestDoctorNoCUDA(t *testing.T) {
	cuda, gpusErr := doctorEnv(t)
	if cuda {
		t.Skip("this ONNX Runtime has the CUDA provider: see TestDoctorGPU")
	}
	code, out := run(t, "doctor")
	if code != 0 {
		t.Fatalf("doctor exit %d, want 0 (no GPU is not a failure):\n%s", code, out)
	}
	wants := []string{"onnxruntime    ", "cuda provider  no: "}
	problems := 1 // the provider
	if gpusErr != nil {
		wants = append(wants, "gpus           none: "+firstLine(gpusErr.Error()))
		problems++
	} else {
		wants = append(wants, "gpu 0          ")
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cuda run") {
		t.Errorf("doctor tried a cuda run without the CUDA provider:\n%s", out)
	}

	code, out = run(t, "doctor", "--require-cuda")
	if code != 1 || !strings.Contains(out, fmt.Sprintf("doctor: %d problem(s)", problems)) {
		t.Errorf("doctor --require-cuda: exit %d, want 1 with %d problem(s):\n%s", code, problems, out)
	}
	if gpusErr != nil && !strings.Contains(out, "fix: install the NVIDIA driver") {
		t.Errorf("doctor --require-cuda without NVML gives no fix:\n%s", out)
	}

	code, out = run(t, "doctor", "--json")
	if code != 0 {
		t.Fatalf("doctor --json exit %d:\n%s", code, out)
	}
	m := decodeDoctor(t, out)
	prov, _ := m["cuda_provider"].(map[string]any)
	if e, _ := prov["error"].(string); prov == nil || prov["available"] != false || e == "" {
		t.Errorf("cuda_provider = %v, want available false with an error", m["cuda_provider"])
	}
	gpus, ok := m["gpus"].([]any)
	gerr, _ := m["gpus_error"].(string)
	if gpusErr != nil && (!ok || len(gpus) != 0 || gerr != gpusErr.Error()) {
		t.Errorf("gpus = %v, gpus_error = %q; want [] and %q", m["gpus"], gerr, gpusErr)
	}
	if gpusErr == nil {
		var g map[string]any
		if len(gpus) > 0 {
			g, _ = gpus[0].(map[string]any)
		}
		if total, _ := g["mem_total_mib"].(float64); g == nil || g["name"] == "" || total <= 0 || gerr != "" {
			t.Errorf("gpus = %v, gpus_error = %q", m["gpus"], gerr)
		}
	}
	if m["cuda_run"] != nil {
		t.Errorf("cuda_run = %v, want null", m["cuda_run"])
	}
	if p, ok := m["problems"].([]any); !ok || len(p) != 0 {
		t.Errorf("problems = %v, want []", m["problems"])
	}
	ort, _ := m["onnxruntime"].(map[string]any)
	if ort == nil || ort["version"] == "" || ort["path"] == "" || m["segtool"] != version || m["cpus"].(float64) < 1 {
		t.Errorf("facts missing: %v", m)
	}

	code, out = run(t, "doctor", "--json", "--require-cuda")
	if code != 1 {
		t.Errorf("doctor --json --require-cuda exit %d, want 1", code)
	}
	if p, _ := decodeDoctor(t, out)["problems"].([]any); len(p) != problems {
		t.Errorf("problems = %v, want %d", p, problems)
	}

	if code, out := run(t, "doctor", "--gpu", "-1"); code != 2 || !strings.Contains(out, "--gpu") {
		t.Errorf("doctor --gpu -1: exit %d, %q; want exit 2 naming --gpu", code, out)
	}
}

// TestDoctorGPU runs only where the CUDA provider and NVML both work.
func TestDoctorGPU(t *testing.T) {
	cuda, gpusErr := doctorEnv(t)
	if !cuda || gpusErr != nil {
		t.Skipf("no GPU here (CUDA provider %v; gpus: %v)", cuda, gpusErr)
	}
	code, out := run(t, "doctor", "--require-cuda")
	t.Log(out)
	if code != 0 {
		t.Fatalf("doctor --require-cuda on a GPU machine: exit %d", code)
	}
	for _, want := range []string{"cuda provider  yes", "gpu 0          ", "cuda run       ok: oracle 16x8 on cuda:0", "(provider CUDAExecutionProvider)"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	code, out = run(t, "doctor", "--json")
	m := decodeDoctor(t, out)
	if r, _ := m["cuda_run"].(map[string]any); code != 0 || r == nil || r["ok"] != true || r["provider"] != models.ProviderCUDA {
		t.Errorf("doctor --json: exit %d, cuda_run %v", code, m["cuda_run"])
	}
}

// The oracle check itself, on the CPU here: the model is built, resolved,
// preprocessed, run and compared, and its temp file removed. On cuda
// without the provider it fails with the reason.
func TestDoctorOracleCheck(t *testing.T) {
	cuda, _ := doctorEnv(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	r := oracleCheck(models.Device{Kind: "cpu"})
	if !r.OK || r.Error != "" || r.Provider != models.ProviderCPU || r.Device != "cpu" || r.Width != 16 || r.Height != 8 || r.Batch != 2 || r.MS <= 0 {
		t.Errorf("oracle check on the CPU: %+v", r)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the check left %v in the temp folder", left)
	}
	if cuda {
		return
	}
	r = oracleCheck(models.Device{Kind: "cuda", ID: 0})
	if r.OK || r.Device != "cuda:0" || !strings.Contains(r.Error, models.ErrNoCUDA.Error()) {
		t.Errorf("oracle check on cuda without the provider: %+v", r)
	}
	var b bytes.Buffer
	(doctorReport{CUDARun: &r, GPUsError: "x"}).print(&b)
	if !strings.Contains(b.String(), "cuda run       FAILED: --device cuda:0: ") {
		t.Errorf("failed cuda run printed as:\n%s", b.String())
	}
}

// The GPU lines, from a made-up report (CI has no GPU).
func TestDoctorPrintGPUs(t *testing.T) {
	r := doctorReport{
		ONNXRuntime:  doctorORT{Path: "/x/libonnxruntime.so.1", Version: "1.30.0"},
		CUDAProvider: doctorProvider{Available: true},
		GPUs: []models.GPU{
			{Index: 0, Name: "NVIDIA H100 80GB HBM3", Driver: "580.65.06", CUDAVersion: "13.0", MemTotalMiB: 81559, MemUsedMiB: 4.4, ComputeCap: "9.0"},
			{Index: 1, Name: "NVIDIA H200", Driver: "580.65.06", CUDAVersion: "13.0", MemTotalMiB: 143771, MemUsedMiB: 0, ComputeCap: "9.0"},
		},
		CUDARun: &doctorRunCheck{OK: true, Device: "cuda:1", Provider: models.ProviderCUDA, Width: 16, Height: 8, MS: 1.234},
	}
	var b bytes.Buffer
	r.print(&b)
	for _, want := range []string{
		"cuda provider  yes\n",
		"gpus           2 (driver 580.65.06, CUDA driver 13.0)\n",
		"gpu 0          NVIDIA H100 80GB HBM3, 81559 MiB, 4 MiB used, compute capability 9.0\n",
		"gpu 1          NVIDIA H200, 143771 MiB, 0 MiB used, compute capability 9.0\n",
		"cuda run       ok: oracle 16x8 on cuda:1 in 1.2 ms (provider CUDAExecutionProvider)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDoctorHelp(t *testing.T) {
	helpTeaches(t, "doctor", "--json", "--gpu", "--require-cuda", "cuda run", "gpus none")
}

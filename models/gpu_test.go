package models

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

func TestGPUAccumProcessFound(t *testing.T) {
	var a gpuAccum
	for _, x := range []gpuSample{
		{DeviceMemMiB: 1000, MemOK: true, UtilPct: 0, UtilOK: true},                                     // baseline: idle, process not on the GPU yet
		{DeviceMemMiB: 3500, MemOK: true, ProcMemMiB: 2400, ProcFound: true, UtilPct: 80, UtilOK: true}, // device peak
		{ProcMemMiB: 2600, ProcFound: true},                                                             // memory and utilisation unreadable: skipped, not zero
		{DeviceMemMiB: 3200, MemOK: true, ProcMemMiB: 2500, ProcFound: true, UtilPct: 40, UtilOK: true},
	} {
		a.add(x)
	}
	got := a.stats()
	want := GPUStats{
		Samples: 4, BaselineDeviceMemMiB: 1000, PeakDeviceMemMiB: 3500,
		PeakProcessMemMiB: 2600, ProcessFound: true,
		MeanUtilPct: 40, MaxUtilPct: 80, UtilSamples: 3, // (0 + 80 + 40) / 3
	}
	if got != want {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}
	if p := got.PeakMemMiB(); p != 2600 {
		t.Errorf("PeakMemMiB %g, want the process's 2600", p)
	}
}

// Inside a PID namespace the process is never listed: the peak is the
// device's rise over its baseline.
func TestGPUAccumNamespacedPID(t *testing.T) {
	var a gpuAccum
	a.add(gpuSample{UtilPct: 5, UtilOK: true}) // no memory reading: not the baseline
	for _, mem := range []float64{512, 2560, 2048} {
		a.add(gpuSample{DeviceMemMiB: mem, MemOK: true})
	}
	got := a.stats()
	if got.Samples != 4 || got.ProcessFound || got.PeakProcessMemMiB != 0 || got.BaselineDeviceMemMiB != 512 || got.PeakDeviceMemMiB != 2560 {
		t.Fatalf("stats %+v", got)
	}
	if got.UtilSamples != 1 || got.MeanUtilPct != 5 || got.MaxUtilPct != 5 {
		t.Errorf("utilisation %+v, want one sample of 5%%", got)
	}
	if p := got.PeakMemMiB(); p != 2048 {
		t.Errorf("PeakMemMiB %g, want 2560 - 512 = 2048", p)
	}
	// A device that only freed memory has no positive rise.
	if p := (GPUStats{BaselineDeviceMemMiB: 900, PeakDeviceMemMiB: 900}).PeakMemMiB(); p != 0 {
		t.Errorf("PeakMemMiB with no rise = %g, want 0", p)
	}
	var empty gpuAccum
	if s := empty.stats(); s.MeanUtilPct != 0 || s.Samples != 0 {
		t.Errorf("empty accumulator: %+v", s)
	}
}

func TestCUDAVersionString(t *testing.T) {
	for v, want := range map[int]string{12040: "12.4", 13000: "13.0", 11080: "11.8", 12090: "12.9"} {
		if got := cudaVersionString(v); got != want {
			t.Errorf("cudaVersionString(%d) = %q, want %q", v, got, want)
		}
	}
}

const gib = 1 << 30

// fakeDevice is a mock GPU whose memory and process readings follow the
// given sequences, one step per sample (the last one repeats).
func fakeDevice(name string, usedGiB []float64, procs [][]nvml.ProcessInfo, util []uint32) *mock.Device {
	step := func(i *int, n int) int { // the index for this call, then advance
		k := min(*i, n-1)
		*i++
		return k
	}
	var im, ip, iu int
	return &mock.Device{
		GetNameFunc:                  func() (string, nvml.Return) { return name, nvml.SUCCESS },
		GetUUIDFunc:                  func() (string, nvml.Return) { return "GPU-" + name, nvml.SUCCESS },
		GetIndexFunc:                 func() (int, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED },
		GetCudaComputeCapabilityFunc: func() (int, int, nvml.Return) { return 9, 0, nvml.SUCCESS },
		GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
			u := uint64(usedGiB[step(&im, len(usedGiB))] * gib)
			return nvml.Memory{Total: 80 * gib, Used: u, Free: 80*gib - u}, nvml.SUCCESS
		},
		GetComputeRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) {
			return procs[step(&ip, len(procs))], nvml.SUCCESS
		},
		GetUtilizationRatesFunc: func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: util[step(&iu, len(util))]}, nvml.SUCCESS
		},
	}
}

func fakeNVML(devs ...nvml.Device) *mock.Interface {
	return &mock.Interface{
		InitFunc:                       func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:                   func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc:     func() (string, nvml.Return) { return "580.65.06", nvml.SUCCESS },
		SystemGetCudaDriverVersionFunc: func() (int, nvml.Return) { return 13000, nvml.SUCCESS },
		DeviceGetCountFunc:             func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			if i < 0 || i >= len(devs) {
				return nil, nvml.ERROR_INVALID_ARGUMENT
			}
			return devs[i], nvml.SUCCESS
		},
		DeviceGetHandleByUUIDFunc: func(u string) (nvml.Device, nvml.Return) {
			for _, d := range devs {
				if v, _ := d.GetUUID(); v == u {
					return d, nvml.SUCCESS
				}
			}
			return nil, nvml.ERROR_NOT_FOUND
		},
	}
}

func TestListGPUsMock(t *testing.T) {
	lib := fakeNVML(fakeDevice("H100", []float64{0.5}, [][]nvml.ProcessInfo{nil}, []uint32{0}),
		fakeDevice("H200", []float64{2}, [][]nvml.ProcessInfo{nil}, []uint32{0}))
	gpus, err := listGPUs(lib)
	if err != nil {
		t.Fatal(err)
	}
	want := []GPU{
		{Index: 0, Name: "H100", UUID: "GPU-H100", Driver: "580.65.06", CUDAVersion: "13.0", MemTotalMiB: 81920, MemUsedMiB: 512, ComputeCap: "9.0"},
		{Index: 1, Name: "H200", UUID: "GPU-H200", Driver: "580.65.06", CUDAVersion: "13.0", MemTotalMiB: 81920, MemUsedMiB: 2048, ComputeCap: "9.0"},
	}
	if len(gpus) != 2 || gpus[0] != want[0] || gpus[1] != want[1] {
		t.Errorf("GPUs\n got %+v\nwant %+v", gpus, want)
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("%d Shutdown calls, want 1", n)
	}

	// A failing call is an error naming it and NVML's reason, after which
	// NVML is still shut down.
	bad := fakeDevice("H100", []float64{0.5}, [][]nvml.ProcessInfo{nil}, []uint32{0})
	bad.GetCudaComputeCapabilityFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
	lib = fakeNVML(bad)
	if _, err := listGPUs(lib); err == nil || errors.Is(err, ErrNoNVML) ||
		!strings.Contains(err.Error(), "DeviceGetCudaComputeCapability") || !strings.Contains(err.Error(), nvml.ErrorString(nvml.ERROR_NOT_SUPPORTED)) {
		t.Errorf("compute capability failure: %v", err)
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("%d Shutdown calls after a failure, want 1", n)
	}

	// No driver: ErrNoNVML, and no Shutdown for an Init that failed.
	lib = fakeNVML()
	lib.InitFunc = func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }
	if _, err := listGPUs(lib); !errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), nvml.ErrorString(nvml.ERROR_LIBRARY_NOT_FOUND)) {
		t.Errorf("Init failure: %v, want ErrNoNVML with NVML's reason", err)
	}
	if n := len(lib.ShutdownCalls()); n != 0 {
		t.Errorf("%d Shutdown calls after a failed Init, want 0", n)
	}
	if _, err := startGPUMonitor(lib, 0, "", time.Hour, 42); !errors.Is(err, ErrNoNVML) {
		t.Errorf("monitor with no NVML: %v, want ErrNoNVML", err)
	}
}

// With an hour's period the monitor takes exactly two samples: the
// baseline in Start and the last one in Stop.
func TestGPUMonitorMock(t *testing.T) {
	const pid = 4242
	other := uint32(777)
	for _, c := range []struct {
		name  string
		procs [][]nvml.ProcessInfo
		found bool
		peak  float64 // PeakMemMiB
	}{
		{"pid listed", [][]nvml.ProcessInfo{
			{{Pid: other, UsedGpuMemory: gib / 2}},
			{{Pid: pid, UsedGpuMemory: 1536 << 20}, {Pid: other, UsedGpuMemory: gib}},
		}, true, 1536},
		{"pid namespaced", [][]nvml.ProcessInfo{
			{{Pid: other, UsedGpuMemory: gib / 2}},
			{{Pid: other + 1, UsedGpuMemory: 1536 << 20}, {Pid: other, UsedGpuMemory: gib}},
		}, false, 2048}, // 3072 - 1024
		{"memory not available", [][]nvml.ProcessInfo{
			{},
			{{Pid: pid, UsedGpuMemory: nvmlNotAvailable}},
		}, false, 2048},
	} {
		lib := fakeNVML(fakeDevice("H200", []float64{1, 3}, c.procs, []uint32{10, 90}))
		m, err := startGPUMonitor(lib, 0, "", time.Hour, pid)
		if err != nil {
			t.Fatal(err)
		}
		s := m.Stop()
		want := GPUStats{Device: "H200", UUID: "GPU-H200", Samples: 2, BaselineDeviceMemMiB: 1024, PeakDeviceMemMiB: 3072,
			MeanUtilPct: 50, MaxUtilPct: 90, UtilSamples: 2, ProcessFound: c.found}
		if c.found {
			want.PeakProcessMemMiB = 1536
		}
		if s != want {
			t.Errorf("%s: stats\n got %+v\nwant %+v", c.name, s, want)
		}
		if p := s.PeakMemMiB(); p != c.peak {
			t.Errorf("%s: PeakMemMiB %g, want %g", c.name, p, c.peak)
		}
		if again := m.Stop(); again != s {
			t.Errorf("%s: second Stop %+v, want %+v", c.name, again, s)
		}
		if i, sd := len(lib.InitCalls()), len(lib.ShutdownCalls()); i != 1 || sd != 1 {
			t.Errorf("%s: %d Init and %d Shutdown calls, want 1 and 1", c.name, i, sd)
		}
	}
	var nilMonitor *GPUMonitor
	if s := nilMonitor.Stop(); s != (GPUStats{}) {
		t.Errorf("nil monitor Stop: %+v", s)
	}
}

// The polling goroutine runs (go test -race checks its hand-off to Stop),
// and Stop from several goroutines at once returns one result.
func TestGPUMonitorPolls(t *testing.T) {
	dev := fakeDevice("H100", []float64{1, 2, 4, 3}, [][]nvml.ProcessInfo{nil}, []uint32{0, 100})
	lib := fakeNVML(dev)
	m, err := startGPUMonitor(lib, 0, "", time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the start's reading and two polls (the 4 GiB peak), however
	// slowly a loaded machine schedules the goroutine.
	for deadline := time.Now().Add(time.Minute); len(dev.GetMemoryInfoCalls()) < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the monitor polled %d times in a minute", len(dev.GetMemoryInfoCalls()))
		}
	}
	results := make(chan GPUStats, 3)
	for range 3 {
		go func() { results <- m.Stop() }()
	}
	s := <-results
	for range 2 {
		if o := <-results; o != s {
			t.Errorf("concurrent Stop results differ: %+v and %+v", o, s)
		}
	}
	if s.Samples < 3 || s.PeakDeviceMemMiB != 4096 || s.BaselineDeviceMemMiB != 1024 || s.MaxUtilPct != 100 {
		t.Errorf("stats %+v: want at least 3 samples, peak 4096, baseline 1024, max util 100", s)
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("%d Shutdown calls, want 1", n)
	}
}

func TestGPUMonitorBadIndex(t *testing.T) {
	lib := fakeNVML(fakeDevice("H100", []float64{1}, [][]nvml.ProcessInfo{nil}, []uint32{0}))
	_, err := startGPUMonitor(lib, 3, "", time.Hour, 1)
	if err == nil || errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), "gpu 3") {
		t.Errorf("monitor on a missing GPU: %v", err)
	}
	if i, sd := len(lib.InitCalls()), len(lib.ShutdownCalls()); i != 1 || sd != 1 {
		t.Errorf("%d Init and %d Shutdown calls, want 1 and 1", i, sd)
	}
}

// TestGPUsSystem calls the real NVML. Without an NVIDIA driver (as on CI)
// both entry points must fail with ErrNoNVML; with one, the figures must
// be sane.
func TestGPUsSystem(t *testing.T) {
	gpus, err := GPUs()
	if err != nil {
		if !errors.Is(err, ErrNoNVML) {
			t.Fatalf("GPUs: %v, want an error wrapping ErrNoNVML", err)
		}
		m, err := StartGPUMonitor(0, 10*time.Millisecond)
		if !errors.Is(err, ErrNoNVML) || m != nil {
			t.Fatalf("StartGPUMonitor without NVML: %v, %v; want nil and ErrNoNVML", m, err)
		}
		t.Skipf("no NVML here (%v): the no-GPU path is checked", err)
	}
	t.Logf("GPUs: %+v", gpus)
	for _, g := range gpus {
		if g.Name == "" || g.UUID == "" || g.MemTotalMiB <= 0 || g.MemUsedMiB < 0 || g.MemUsedMiB > g.MemTotalMiB ||
			g.Driver == "" || !strings.Contains(g.CUDAVersion, ".") || !strings.Contains(g.ComputeCap, ".") {
			t.Errorf("implausible GPU %+v", g)
		}
	}
	if len(gpus) == 0 {
		if _, err := StartGPUMonitor(0, 10*time.Millisecond); err == nil {
			t.Error("StartGPUMonitor(0) with no GPUs succeeded")
		}
		return
	}
	m, err := StartGPUMonitor(0, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	s := m.Stop()
	t.Logf("monitor: %+v, peak %g MiB", s, s.PeakMemMiB())
	if s.Device != gpus[0].Name || s.Samples < 2 || s.PeakDeviceMemMiB < s.BaselineDeviceMemMiB ||
		s.PeakDeviceMemMiB > gpus[0].MemTotalMiB || s.MaxUtilPct > 100 || s.MeanUtilPct > s.MaxUtilPct {
		t.Errorf("implausible stats %+v", s)
	}
	if m.Stop() != s {
		t.Error("second Stop returned other stats")
	}
}

// TestCUDAToNVML: CUDA counts only the GPUs $CUDA_VISIBLE_DEVICES lists,
// in its order, each by index or UUID.
func TestCUDAToNVML(t *testing.T) {
	for _, c := range []struct {
		env        string
		id, index  int
		uuid, fail string
	}{
		{"", 0, 0, "", ""},
		{"", 2, 2, "", ""},
		{"3", 0, 3, "", ""},
		{"2, 0", 1, 0, "", ""},
		{"GPU-8f3c,1", 0, 0, "GPU-8f3c", ""},
		{"MIG-11aa", 0, 0, "MIG-11aa", ""},
		{"3", 1, 0, "", "lists 1 GPU"},
		{"gpu0", 0, 0, "", "want an index"},
	} {
		index, uuid, err := CUDAToNVML(c.env, c.id)
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%q cuda:%d: error %v, want %q", c.env, c.id, err, c.fail)
			}
			continue
		}
		if err != nil || index != c.index || uuid != c.uuid {
			t.Errorf("%q cuda:%d = %d %q %v, want %d %q", c.env, c.id, index, uuid, err, c.index, c.uuid)
		}
	}
}

// TestGPUMonitorByUUID: a monitor asked for a UUID (from
// CUDA_VISIBLE_DEVICES) watches that GPU, not NVML's first.
func TestGPUMonitorByUUID(t *testing.T) {
	lib := fakeNVML(fakeDevice("H100", []float64{1}, [][]nvml.ProcessInfo{nil}, []uint32{0}),
		fakeDevice("H200", []float64{2}, [][]nvml.ProcessInfo{nil}, []uint32{0}))
	m, err := startGPUMonitor(lib, 0, "GPU-H200", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Stop(); s.Device != "H200" || s.UUID != "GPU-H200" || s.BaselineDeviceMemMiB != 2048 {
		t.Errorf("watched %+v, want the H200", s)
	}
	if _, err := startGPUMonitor(lib, 0, "GPU-none", time.Hour, 1); err == nil || !strings.Contains(err.Error(), "GPU-none") {
		t.Errorf("unknown UUID: %v", err)
	}
}

package models

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// ErrNoNVML is wrapped by GPUs' and StartGPUMonitor's errors when NVML, the
// NVIDIA driver's management library (libnvidia-ml.so.1), cannot be loaded
// or initialised: no NVIDIA driver, or a container without it mounted.
var ErrNoNVML = errors.New("NVML (libnvidia-ml.so.1, part of the NVIDIA driver) is not available")

// DefaultGPUSampleEvery is the sampling period StartGPUMonitor uses when it
// is given none.
const DefaultGPUSampleEvery = 100 * time.Millisecond

// GPU describes one NVIDIA GPU as NVML sees it.
type GPU struct {
	Index       int     `json:"index"`
	Name        string  `json:"name"`
	UUID        string  `json:"uuid"`
	Driver      string  `json:"driver"`       // driver version, e.g. 580.65.06
	CUDAVersion string  `json:"cuda_version"` // newest CUDA the driver supports, e.g. 13.0
	MemTotalMiB float64 `json:"mem_total_mib"`
	MemUsedMiB  float64 `json:"mem_used_mib"`
	ComputeCap  string  `json:"compute_cap"` // e.g. 9.0
}

// nvmlLib is the part of NVML segtool calls, so tests can stand in a mock
// (github.com/NVIDIA/go-nvml/pkg/nvml/mock.Interface satisfies it).
type nvmlLib interface {
	Init() nvml.Return
	Shutdown() nvml.Return
	SystemGetDriverVersion() (string, nvml.Return)
	SystemGetCudaDriverVersion() (int, nvml.Return)
	DeviceGetCount() (int, nvml.Return)
	DeviceGetHandleByIndex(int) (nvml.Device, nvml.Return)
	DeviceGetHandleByUUID(string) (nvml.Device, nvml.Return)
}

// systemNVML calls the process-wide NVML (nvml.Init dlopens the library;
// Init and Shutdown are reference counted, so monitors and GPUs may
// overlap).
type systemNVML struct{}

func (systemNVML) Init() nvml.Return     { return nvml.Init() }
func (systemNVML) Shutdown() nvml.Return { return nvml.Shutdown() }
func (systemNVML) SystemGetDriverVersion() (string, nvml.Return) {
	return nvml.SystemGetDriverVersion()
}
func (systemNVML) SystemGetCudaDriverVersion() (int, nvml.Return) {
	return nvml.SystemGetCudaDriverVersion()
}
func (systemNVML) DeviceGetCount() (int, nvml.Return) { return nvml.DeviceGetCount() }
func (systemNVML) DeviceGetHandleByIndex(i int) (nvml.Device, nvml.Return) {
	return nvml.DeviceGetHandleByIndex(i)
}
func (systemNVML) DeviceGetHandleByUUID(u string) (nvml.Device, nvml.Return) {
	return nvml.DeviceGetHandleByUUID(u)
}

// CUDAToNVML maps CUDA device id (what --device cuda:N and ONNX Runtime's
// device_id count) to the GPU NVML should watch, given the value of
// $CUDA_VISIBLE_DEVICES: CUDA numbers only the GPUs listed there, in that
// order, each given by NVML index or by UUID (GPU-..., MIG-...). Unset or
// empty, the ids are the same. (With several GPUs and no
// CUDA_DEVICE_ORDER=PCI_BUS_ID, CUDA orders them fastest first, NVML by
// PCI bus; on a one-GPU machine they agree.)
func CUDAToNVML(visible string, id int) (index int, uuid string, err error) {
	visible = strings.TrimSpace(visible)
	if visible == "" {
		return id, "", nil
	}
	list := strings.Split(visible, ",")
	if id < 0 || id >= len(list) {
		return 0, "", fmt.Errorf("cuda:%d: CUDA_VISIBLE_DEVICES=%s lists %d GPU(s)", id, visible, len(list))
	}
	e := strings.TrimSpace(list[id])
	if strings.HasPrefix(e, "GPU-") || strings.HasPrefix(e, "MIG-") {
		return 0, e, nil
	}
	n, err := strconv.Atoi(e)
	if err != nil || n < 0 {
		return 0, "", fmt.Errorf("CUDA_VISIBLE_DEVICES entry %q: want an index or a GPU-/MIG- UUID", e)
	}
	return n, "", nil
}

// nvmlError names the NVML call that failed and NVML's words for why.
func nvmlError(call string, ret nvml.Return) error {
	return fmt.Errorf("nvml %s: %s", call, nvml.ErrorString(ret))
}

// initNVML initialises lib; every failure means NVML is unusable here, so
// it wraps ErrNoNVML. A nil error must be paired with lib.Shutdown().
func initNVML(lib nvmlLib) error {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return fmt.Errorf("%w: nvml Init: %s", ErrNoNVML, nvml.ErrorString(ret))
	}
	return nil
}

// mib converts bytes to MiB.
func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// cudaVersionString formats NVML's CUDA driver version (1000*major +
// 10*minor, e.g. 12040) as "12.4".
func cudaVersionString(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

// GPUs lists every GPU NVML can see, in NVML's index order (which
// CUDA_VISIBLE_DEVICES does not change). It loads NVML and shuts it down
// again; the error wraps ErrNoNVML when there is no usable NVIDIA driver.
func GPUs() ([]GPU, error) { return listGPUs(systemNVML{}) }

func listGPUs(lib nvmlLib) ([]GPU, error) {
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	defer lib.Shutdown()
	driver, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("SystemGetDriverVersion", ret)
	}
	cv, ret := lib.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("SystemGetCudaDriverVersion", ret)
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, nvmlError("DeviceGetCount", ret)
	}
	gpus := make([]GPU, 0, n)
	for i := range n {
		g := GPU{Index: i, Driver: driver, CUDAVersion: cudaVersionString(cv)}
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu %d: %w", i, nvmlError("DeviceGetHandleByIndex", ret))
		}
		if g.Name, ret = d.GetName(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu %d: %w", i, nvmlError("DeviceGetName", ret))
		}
		if g.UUID, ret = d.GetUUID(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu %d: %w", i, nvmlError("DeviceGetUUID", ret))
		}
		mem, ret := d.GetMemoryInfo()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu %d: %w", i, nvmlError("DeviceGetMemoryInfo", ret))
		}
		g.MemTotalMiB, g.MemUsedMiB = mib(mem.Total), mib(mem.Used)
		major, minor, ret := d.GetCudaComputeCapability()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("gpu %d: %w", i, nvmlError("DeviceGetCudaComputeCapability", ret))
		}
		g.ComputeCap = fmt.Sprintf("%d.%d", major, minor)
		gpus = append(gpus, g)
	}
	return gpus, nil
}

// GPUStats is what a GPUMonitor saw between its start and Stop.
type GPUStats struct {
	Device string `json:"device"` // the GPU's name
	Index  int    `json:"index"`  // NVML's index
	UUID   string `json:"uuid,omitempty"`
	// Samples counts every sample: the baseline, one per period, and the
	// last one taken by Stop.
	Samples int `json:"samples"`
	// PeakProcessMemMiB is the most GPU memory NVML charged to this process
	// (matched on os.Getpid()) in any sample: what ONNX Runtime's CUDA arena
	// and the CUDA context took. ProcessFound is false, and this 0, when the
	// pid never appeared, as inside a PID namespace (a container), where
	// NVML reports host pids.
	PeakProcessMemMiB float64 `json:"peak_process_mem_mib"`
	ProcessFound      bool    `json:"process_found"`
	// PeakDeviceMemMiB is the device's used memory, all processes, at its
	// highest sample; BaselineDeviceMemMiB is the first sample, taken when
	// the monitor started, before the work it measures.
	PeakDeviceMemMiB     float64 `json:"peak_device_mem_mib"`
	BaselineDeviceMemMiB float64 `json:"baseline_device_mem_mib"`
	// MeanUtilPct and MaxUtilPct are over the UtilSamples samples whose
	// utilisation could be read (NVML's "GPU" rate: the share of the last
	// sample period in which a kernel ran). MIG instances do not report it.
	MeanUtilPct float64 `json:"mean_util_pct"`
	MaxUtilPct  float64 `json:"max_util_pct"`
	UtilSamples int     `json:"util_samples"`
}

// PeakMemMiB is the best estimate of the GPU memory the measured work
// took: the process's own peak when NVML listed it, else the device's peak
// minus its baseline (right when nothing else on the GPU changed its use
// meanwhile; never negative).
func (s GPUStats) PeakMemMiB() float64 {
	if s.ProcessFound {
		return s.PeakProcessMemMiB
	}
	return max(0, s.PeakDeviceMemMiB-s.BaselineDeviceMemMiB)
}

// WithUtil is s with the utilisation figures of u: memory is watched from
// before the session (for its baseline), utilisation over the timed
// calls only.
func (s GPUStats) WithUtil(u GPUStats) GPUStats {
	s.MeanUtilPct, s.MaxUtilPct, s.UtilSamples = u.MeanUtilPct, u.MaxUtilPct, u.UtilSamples
	return s
}

// gpuSample is one reading of a GPU. A reading NVML refused is left out
// (its ok flag false) rather than counted as zero.
type gpuSample struct {
	DeviceMemMiB float64
	MemOK        bool
	ProcMemMiB   float64 // sum over this process's entries
	ProcFound    bool
	UtilPct      float64
	UtilOK       bool
}

// gpuAccum folds samples into GPUStats; it is the monitor's bookkeeping,
// free of NVML so it can be tested with made-up samples.
type gpuAccum struct {
	s        GPUStats
	utilSum  float64
	haveBase bool
}

func (a *gpuAccum) add(x gpuSample) {
	a.s.Samples++
	if x.MemOK {
		if !a.haveBase {
			// The first memory reading is the baseline: StartGPUMonitor
			// takes it before the work starts.
			a.s.BaselineDeviceMemMiB, a.haveBase = x.DeviceMemMiB, true
		}
		a.s.PeakDeviceMemMiB = max(a.s.PeakDeviceMemMiB, x.DeviceMemMiB)
	}
	if x.ProcFound {
		a.s.ProcessFound = true
		a.s.PeakProcessMemMiB = max(a.s.PeakProcessMemMiB, x.ProcMemMiB)
	}
	if x.UtilOK {
		a.s.UtilSamples++
		a.utilSum += x.UtilPct
		a.s.MaxUtilPct = max(a.s.MaxUtilPct, x.UtilPct)
	}
}

// stats returns the summary so far; the mean is utilSum / UtilSamples.
func (a *gpuAccum) stats() GPUStats {
	s := a.s
	if s.UtilSamples > 0 {
		s.MeanUtilPct = a.utilSum / float64(s.UtilSamples)
	}
	return s
}

// nvmlNotAvailable is NVML_VALUE_NOT_AVAILABLE as an unsigned long long:
// what UsedGpuMemory holds when the driver cannot say (Windows WDDM, some
// vGPU and MIG set-ups).
const nvmlNotAvailable = ^uint64(0)

// readGPU takes one sample of d for process pid; the Return is the
// memory reading's.
func readGPU(d nvml.Device, pid int) (gpuSample, nvml.Return) {
	var x gpuSample
	mem, memRet := d.GetMemoryInfo()
	if memRet == nvml.SUCCESS {
		x.DeviceMemMiB, x.MemOK = mib(mem.Used), true
	}
	if procs, ret := d.GetComputeRunningProcesses(); ret == nvml.SUCCESS {
		for _, p := range procs {
			if int(p.Pid) == pid && p.UsedGpuMemory != nvmlNotAvailable {
				x.ProcMemMiB += mib(p.UsedGpuMemory)
				x.ProcFound = true
			}
		}
	}
	if u, ret := d.GetUtilizationRates(); ret == nvml.SUCCESS {
		x.UtilPct, x.UtilOK = float64(u.Gpu), true
	}
	return x, memRet
}

// GPUMonitor samples one GPU's memory and utilisation in a goroutine until
// Stop. Start it just before the work to measure: its first sample is the
// baseline.
type GPUMonitor struct {
	lib  nvmlLib
	dev  nvml.Device
	pid  int
	acc  gpuAccum // written by the goroutine until done closes, then by Stop
	stop chan struct{}
	done chan struct{}

	once  sync.Once
	final GPUStats
}

// StartGPUMonitor starts sampling GPU index (NVML's numbering) every
// period (DefaultGPUSampleEvery when every <= 0). It takes the baseline
// sample before it returns. The error wraps ErrNoNVML when NVML is
// unavailable; Stop must be called to release NVML.
func StartGPUMonitor(index int, every time.Duration) (*GPUMonitor, error) {
	return startGPUMonitor(systemNVML{}, index, "", every, os.Getpid())
}

// StartCUDAMonitor is StartGPUMonitor for the GPU that CUDA calls device
// id, found through $CUDA_VISIBLE_DEVICES (see CUDAToNVML).
func StartCUDAMonitor(id int, every time.Duration) (*GPUMonitor, error) {
	index, uuid, err := CUDAToNVML(os.Getenv("CUDA_VISIBLE_DEVICES"), id)
	if err != nil {
		return nil, err
	}
	return startGPUMonitor(systemNVML{}, index, uuid, every, os.Getpid())
}

// startGPUMonitor watches the GPU with the given UUID, or with NVML index
// index when uuid is empty.
func startGPUMonitor(lib nvmlLib, index int, uuid string, every time.Duration, pid int) (*GPUMonitor, error) {
	if every <= 0 {
		every = DefaultGPUSampleEvery
	}
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	fail := func(err error) (*GPUMonitor, error) {
		lib.Shutdown()
		return nil, fmt.Errorf("gpu %d: %w", index, err)
	}
	var d nvml.Device
	var ret nvml.Return
	if uuid != "" {
		if d, ret = lib.DeviceGetHandleByUUID(uuid); ret != nvml.SUCCESS {
			return fail(nvmlError("DeviceGetHandleByUUID "+uuid, ret))
		}
	} else if d, ret = lib.DeviceGetHandleByIndex(index); ret != nvml.SUCCESS {
		return fail(nvmlError("DeviceGetHandleByIndex", ret))
	}
	if i, r := d.GetIndex(); r == nvml.SUCCESS {
		index = i
	}
	name, ret := d.GetName()
	if ret != nvml.SUCCESS {
		return fail(nvmlError("DeviceGetName", ret))
	}
	// The baseline: without a memory reading now, the device figures would
	// mean nothing, so that is an error.
	first, ret := readGPU(d, pid)
	if ret != nvml.SUCCESS {
		return fail(nvmlError("DeviceGetMemoryInfo", ret))
	}
	m := &GPUMonitor{lib: lib, dev: d, pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	m.acc.s.Device, m.acc.s.Index = name, index
	if u, r := d.GetUUID(); r == nvml.SUCCESS {
		m.acc.s.UUID = u
	}
	m.acc.add(first)
	go m.loop(every)
	return m, nil
}

func (m *GPUMonitor) loop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			x, _ := readGPU(m.dev, m.pid)
			m.acc.add(x)
		}
	}
}

// Stop ends sampling, takes one last sample (so work shorter than the
// period is still seen), releases NVML and returns the statistics. Later
// calls, from any goroutine, return the same statistics; Stop on a nil
// monitor returns zero statistics.
func (m *GPUMonitor) Stop() GPUStats {
	if m == nil {
		return GPUStats{}
	}
	m.once.Do(func() {
		close(m.stop)
		<-m.done
		x, _ := readGPU(m.dev, m.pid)
		m.acc.add(x)
		m.lib.Shutdown()
		m.final = m.acc.stats()
	})
	return m.final
}

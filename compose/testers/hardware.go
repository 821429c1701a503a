package testers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// OS is an operating system family.
type OS string

// Operating system families.
const (
	Windows OS = "windows"
	MacOS   OS = "macos"
	Linux   OS = "linux"
)

// GPUVendor makes the GPU.
type GPUVendor string

// GPU vendors.
const (
	NVIDIA GPUVendor = "nvidia"
	AMD    GPUVendor = "amd"
	Intel  GPUVendor = "intel"
	Apple  GPUVendor = "apple"
)

// Backend is the NAR inference backend the client runs on.
type Backend string

// NAR backends.
const (
	CUDA   Backend = "cuda"
	ROCm   Backend = "rocm"
	Vulkan Backend = "vulkan"
	Metal  Backend = "metal"
	CPU    Backend = "cpu"
)

// Hardware is a tester's machine, as a client would report it with a NAR
// trace. Later stages group NAR performance and crashes by Class().
type Hardware struct {
	OS        OS        `json:"os"`
	OSVersion string    `json:"os_version"`
	CPU       string    `json:"cpu"`
	CPUCores  int       `json:"cpu_cores"`
	GPUVendor GPUVendor `json:"gpu_vendor"`
	GPU       string    `json:"gpu"`
	// VRAMMiB is dedicated video memory, or for integrated and unified
	// memory GPUs what the driver lets the GPU use (see sharedVRAM).
	VRAMMiB int     `json:"vram_mib"`
	RAMGiB  int     `json:"ram_gib"`
	Backend Backend `json:"backend"`
}

// Class is a coarse hardware class for grouping: vendor, backend and a VRAM
// bucket, e.g. "nvidia/cuda/8g".
func (h Hardware) Class() string {
	gib := h.VRAMMiB / 1024
	bucket := "2g"
	for _, b := range []int{4, 8, 12, 16, 24, 48} {
		if gib >= b {
			bucket = fmt.Sprintf("%dg", b)
		}
	}
	return fmt.Sprintf("%s/%s/%s", h.GPUVendor, h.Backend, bucket)
}

// ErrInconsistentHardware marks a hardware profile that no real machine has.
var ErrInconsistentHardware = errors.New("inconsistent hardware")

// Validate checks the profile against the catalogue's rules: Metal only on
// macOS with an Apple GPU, CUDA only on NVIDIA, ROCm only on AMD under Linux
// or Windows, a CPU and VRAM size that this GPU really comes with.
func (h Hardware) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInconsistentHardware, field, fmt.Sprintf(format, args...))
	}
	osv, ok := findOS(h.OS, h.OSVersion)
	if !ok {
		return bad("os_version", "%q is not a known %s version", h.OSVersion, h.OS)
	}
	g, ok := findGPU(h.GPU)
	if !ok {
		return bad("gpu", "unknown GPU %q", h.GPU)
	}
	if g.vendor != h.GPUVendor {
		return bad("gpu_vendor", "%s is made by %s, not %s", h.GPU, g.vendor, h.GPUVendor)
	}
	if !slices.Contains(g.os, osv.family) {
		return bad("gpu", "%s does not run %s", h.GPU, h.OS)
	}
	c, ok := findCPU(h.CPU)
	if !ok {
		return bad("cpu", "unknown CPU %q", h.CPU)
	}
	if !slices.Contains(c.cores, h.CPUCores) {
		return bad("cpu_cores", "%s has %v cores, not %d", h.CPU, c.cores, h.CPUCores)
	}
	if !cpuFits(g, c, h.OS) {
		return bad("cpu", "%s does not pair with %s on %s", h.CPU, h.GPU, h.OS)
	}
	if !slices.Contains(g.ram, h.RAMGiB) && !(len(g.ram) == 0 && slices.Contains(defaultRAM, h.RAMGiB)) {
		return bad("ram_gib", "%d GiB is not offered with %s", h.RAMGiB, h.GPU)
	}
	if want := g.vramFor(h.RAMGiB); len(want) == 0 || !slices.Contains(want, h.VRAMMiB) {
		return bad("vram_mib", "%s has %v MiB, not %d", h.GPU, want, h.VRAMMiB)
	}
	if !slices.Contains(backendsFor(h.OS, h.GPUVendor), h.Backend) {
		return bad("backend", "%s does not run on %s with a %s GPU", h.Backend, h.OS, h.GPUVendor)
	}
	return nil
}

// DrawHardware draws a machine from the weighted catalogue. The draw is
// consistent by construction: OS first, then a GPU that runs it, a CPU that
// pairs with the GPU, memory sizes the GPU is sold with, and a backend the
// vendor supports on that OS.
func DrawHardware(rng *rand.Rand) Hardware {
	osv := pick(rng, osCatalogue, func(o osVersion) float64 { return o.weight })
	var gpus []gpuModel
	for _, g := range gpuCatalogue {
		if slices.Contains(g.os, osv.family) {
			gpus = append(gpus, g)
		}
	}
	g := pick(rng, gpus, func(g gpuModel) float64 { return g.weight })
	var cpus []cpuModel
	for _, c := range cpuCatalogue {
		if cpuFits(g, c, osv.family) {
			cpus = append(cpus, c)
		}
	}
	c := pick(rng, cpus, func(c cpuModel) float64 { return c.weight })
	var ram int
	if len(g.ram) > 0 {
		ram = g.ram[rng.IntN(len(g.ram))]
	} else {
		ram = defaultRAM[pickIndex(rng, defaultRAMWeights)]
	}
	vrams := g.vramFor(ram)
	backends := backendsFor(osv.family, g.vendor)
	weights := backendWeights(osv.family, g.vendor)
	b := backends[pickIndex(rng, weights)]
	return Hardware{
		OS: osv.family, OSVersion: osv.name,
		CPU: c.name, CPUCores: c.cores[rng.IntN(len(c.cores))],
		GPUVendor: g.vendor, GPU: g.name, VRAMMiB: vrams[rng.IntN(len(vrams))],
		RAMGiB: ram, Backend: b,
	}
}

// backendsFor lists the backends a vendor's GPU can use on an OS; the CPU
// backend is always there.
func backendsFor(os OS, v GPUVendor) []Backend {
	switch v {
	case NVIDIA:
		return []Backend{CUDA, Vulkan, CPU}
	case AMD:
		return []Backend{ROCm, Vulkan, CPU}
	case Apple:
		if os == MacOS {
			return []Backend{Metal, CPU}
		}
	}
	return []Backend{Vulkan, CPU}
}

// backendWeights matches backendsFor: what clients actually pick. ROCm is
// common on Linux, rare on Windows, where Vulkan is the usual AMD path.
func backendWeights(os OS, v GPUVendor) []float64 {
	switch v {
	case NVIDIA:
		return []float64{0.82, 0.13, 0.05}
	case AMD:
		if os == Linux {
			return []float64{0.55, 0.4, 0.05}
		}
		return []float64{0.2, 0.72, 0.08}
	case Apple:
		if os == MacOS {
			return []float64{0.93, 0.07}
		}
	}
	return []float64{0.8, 0.2}
}

func pick[T any](rng *rand.Rand, items []T, weight func(T) float64) T {
	ws := make([]float64, len(items))
	for i, it := range items {
		ws[i] = weight(it)
	}
	return items[pickIndex(rng, ws)]
}

// pickIndex draws an index with probability proportional to its weight.
func pickIndex(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func findOS(family OS, name string) (osVersion, bool) {
	for _, o := range osCatalogue {
		if o.family == family && o.name == name {
			return o, true
		}
	}
	return osVersion{}, false
}

func findGPU(name string) (gpuModel, bool) {
	for _, g := range gpuCatalogue {
		if g.name == name {
			return g, true
		}
	}
	return gpuModel{}, false
}

func findCPU(name string) (cpuModel, bool) {
	for _, c := range cpuCatalogue {
		if c.name == name {
			return c, true
		}
	}
	return cpuModel{}, false
}

// cpuFits says whether a CPU is sold with this GPU on this OS: integrated
// and Apple GPUs come with their own CPUs; discrete GPUs go with any desktop
// x86 CPU of the same kind (desktop or laptop).
func cpuFits(g gpuModel, c cpuModel, os OS) bool {
	if len(g.cpus) > 0 {
		return slices.Contains(g.cpus, c.name)
	}
	return !c.apple && c.mobile == g.mobile && os != MacOS
}

package testers_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/compose/testers"
)

// TestDrawHardwareConsistent checks the catalogue's rules on many draws,
// both through Validate and spelled out here, so a bug in Validate cannot
// hide one in the draw.
func TestDrawHardwareConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	seenOS := map[testers.OS]int{}
	seenBackend := map[testers.Backend]int{}
	const n = 20000
	for i := range n {
		h := testers.DrawHardware(rng)
		require.NoError(t, h.Validate(), "draw %d: %+v", i, h)
		seenOS[h.OS]++
		seenBackend[h.Backend]++
		switch h.Backend {
		case testers.Metal:
			require.Equal(t, testers.MacOS, h.OS, "%+v", h)
			require.Equal(t, testers.Apple, h.GPUVendor, "%+v", h)
		case testers.CUDA:
			require.Equal(t, testers.NVIDIA, h.GPUVendor, "%+v", h)
		case testers.ROCm:
			require.Equal(t, testers.AMD, h.GPUVendor, "%+v", h)
			require.Contains(t, []testers.OS{testers.Linux, testers.Windows}, h.OS, "%+v", h)
		}
		require.Equal(t, h.OS == testers.MacOS, h.GPUVendor == testers.Apple, "Apple GPUs on macOS only, and macOS with Apple GPUs: %+v", h)
		require.Positive(t, h.CPUCores)
		require.Positive(t, h.VRAMMiB)
		require.Positive(t, h.RAMGiB)
		if h.GPUVendor == testers.Apple {
			require.Equal(t, h.RAMGiB*1024*3/4, h.VRAMMiB, "unified memory: %+v", h)
			require.Equal(t, h.GPU, h.CPU, "an Apple GPU comes with its own CPU: %+v", h)
		}
	}
	// Every OS and backend occurs, in plausible shares.
	for _, b := range []testers.Backend{testers.CUDA, testers.ROCm, testers.Vulkan, testers.Metal, testers.CPU} {
		assert.Positive(t, seenBackend[b], "backend %s never drawn", b)
	}
	assert.InDelta(t, 0.80, float64(seenOS[testers.Windows])/n, 0.05)
	assert.InDelta(t, 0.11, float64(seenOS[testers.MacOS])/n, 0.03)
	assert.InDelta(t, 0.085, float64(seenOS[testers.Linux])/n, 0.03)
	assert.Greater(t, seenBackend[testers.CUDA], seenBackend[testers.ROCm], "NVIDIA dominates")
}

func TestHardwareValidateRejects(t *testing.T) {
	good := testers.Hardware{
		OS: testers.Windows, OSVersion: "Windows 11 23H2", CPU: "AMD Ryzen 5 5600X", CPUCores: 6,
		GPUVendor: testers.NVIDIA, GPU: "NVIDIA GeForce RTX 3060", VRAMMiB: 12288, RAMGiB: 16, Backend: testers.CUDA,
	}
	require.NoError(t, good.Validate())
	mac := testers.Hardware{
		OS: testers.MacOS, OSVersion: "macOS 15 Sequoia", CPU: "Apple M2 Pro", CPUCores: 12,
		GPUVendor: testers.Apple, GPU: "Apple M2 Pro", VRAMMiB: 24576, RAMGiB: 32, Backend: testers.Metal,
	}
	require.NoError(t, mac.Validate())
	assert.Equal(t, "nvidia/cuda/12g", good.Class())
	assert.Equal(t, "apple/metal/24g", mac.Class())
	cases := map[string]struct {
		h     testers.Hardware
		field string
	}{
		"metal on windows": {with(good, func(h *testers.Hardware) { h.Backend = testers.Metal }), "backend"},
		"cuda on AMD": {with(good, func(h *testers.Hardware) {
			h.GPUVendor, h.GPU, h.VRAMMiB, h.Backend = testers.AMD, "AMD Radeon RX 6600", 8192, testers.CUDA
		}), "backend"},
		"rocm on macOS":       {with(mac, func(h *testers.Hardware) { h.Backend = testers.ROCm }), "backend"},
		"cuda on macOS":       {with(mac, func(h *testers.Hardware) { h.Backend = testers.CUDA }), "backend"},
		"vram not sold":       {with(good, func(h *testers.Hardware) { h.VRAMMiB = 10240 }), "vram_mib"},
		"unified mismatch":    {with(mac, func(h *testers.Hardware) { h.VRAMMiB = 32768 }), "vram_mib"},
		"wrong vendor":        {with(good, func(h *testers.Hardware) { h.GPUVendor = testers.AMD }), "gpu_vendor"},
		"nvidia on macOS":     {with(good, func(h *testers.Hardware) { h.OS, h.OSVersion = testers.MacOS, "macOS 14 Sonoma" }), "gpu"},
		"apple GPU on x86":    {with(mac, func(h *testers.Hardware) { h.CPU, h.CPUCores = "AMD Ryzen 5 5600X", 6 }), "cpu"},
		"core count":          {with(good, func(h *testers.Hardware) { h.CPUCores = 64 }), "cpu_cores"},
		"unknown GPU":         {with(good, func(h *testers.Hardware) { h.GPU = "Voodoo 2" }), "gpu"},
		"unknown OS":          {with(good, func(h *testers.Hardware) { h.OSVersion = "Windows 95" }), "os_version"},
		"laptop GPU in tower": {with(good, func(h *testers.Hardware) { h.GPU, h.VRAMMiB = "NVIDIA GeForce RTX 3050 Laptop GPU", 4096 }), "cpu"},
		"4090 with 8 GiB":     {with(good, func(h *testers.Hardware) { h.GPU, h.VRAMMiB, h.RAMGiB = "NVIDIA GeForce RTX 4090", 24576, 8 }), "ram_gib"},
	}
	for name, c := range cases {
		err := c.h.Validate()
		require.Error(t, err, name)
		assert.ErrorIs(t, err, testers.ErrInconsistentHardware, name)
		assert.Contains(t, err.Error(), ": "+c.field+": ", name)
	}
}

func with(h testers.Hardware, f func(*testers.Hardware)) testers.Hardware {
	f(&h)
	return h
}

// TestSimulateNARFollowsHardware checks the traces are derived from the
// hardware: the CPU backend is slower, low VRAM runs out of memory more.
func TestSimulateNARFollowsHardware(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	byBackend := map[testers.Backend]*narAgg{}
	lowVRAM, highVRAM := &narAgg{}, &narAgg{}
	for i := range 20000 {
		h := testers.DrawHardware(rng)
		tr := testers.SimulateNAR(rng, "t", i, h)
		require.Equal(t, h, tr.Hardware)
		require.Equal(t, h.Backend, tr.Backend)
		require.Contains(t, []testers.Outcome{testers.OutcomeOK, testers.OutcomeOOM, testers.OutcomeCrash}, tr.Outcome)
		require.Positive(t, tr.PromptTokens)
		require.Equal(t, fmt.Sprintf("t-nar-%d", i), tr.TraceID)
		require.NotEmpty(t, tr.Spans)
		require.Equal(t, "load", tr.Spans[0].Name)
		if tr.Outcome != testers.OutcomeOOM {
			require.Len(t, tr.Spans, 3)
			require.InDelta(t, tr.Spans[1].DurationMs+75, tr.TTFTMillis, 45.1, "TTFT is prefill plus a little")
		}
		require.LessOrEqual(t, tr.PeakVRAMMiB, h.VRAMMiB)
		if h.Backend == testers.CPU {
			require.Zero(t, tr.PeakVRAMMiB, "the CPU backend uses no VRAM")
		}
		switch tr.Outcome {
		case testers.OutcomeOOM:
			require.Zero(t, tr.GeneratedTokens)
			require.Zero(t, tr.TTFTMillis)
		case testers.OutcomeOK:
			require.Positive(t, tr.GeneratedTokens)
			require.Positive(t, tr.TokensPerSecond)
			require.Positive(t, tr.TTFTMillis)
		}
		a := byBackend[h.Backend]
		if a == nil {
			a = &narAgg{}
			byBackend[h.Backend] = a
		}
		for _, x := range []*narAgg{a, pickVRAM(h, lowVRAM, highVRAM)} {
			if x == nil {
				continue
			}
			x.n++
			switch tr.Outcome {
			case testers.OutcomeOOM:
				x.oom++
			case testers.OutcomeCrash:
				x.crash++
			default:
				x.ok++
				x.tps += tr.TokensPerSecond
			}
		}
	}
	meanTPS := func(a *narAgg) float64 { return a.tps / float64(a.ok) }
	assert.Less(t, meanTPS(byBackend[testers.CPU])*2, meanTPS(byBackend[testers.CUDA]), "CPU decoding is much slower than CUDA")
	assert.Greater(t, float64(lowVRAM.oom)/float64(lowVRAM.n), 2*float64(highVRAM.oom)/float64(highVRAM.n), "OOM likelier on low VRAM")
	assert.Greater(t, float64(byBackend[testers.ROCm].crash)/float64(byBackend[testers.ROCm].n),
		float64(byBackend[testers.CUDA].crash)/float64(byBackend[testers.CUDA].n), "ROCm crashes more than CUDA")
}

type narAgg struct {
	n, oom, crash, ok int
	tps               float64
}

// pickVRAM buckets GPU-backed machines by VRAM; the middle is left out.
func pickVRAM(h testers.Hardware, low, high *narAgg) *narAgg {
	switch {
	case h.Backend == testers.CPU:
		return nil
	case h.VRAMMiB <= 6144:
		return low
	case h.VRAMMiB >= 16384:
		return high
	}
	return nil
}

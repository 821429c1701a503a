package testers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Outcome is how a NAR inference ended on the client.
type Outcome string

// NAR outcomes.
const (
	OutcomeOK    Outcome = "ok"
	OutcomeOOM   Outcome = "oom"
	OutcomeCrash Outcome = "crash"
)

// NARTrace is one client-side NAR inference, as testers POST it to
// /v1/telemetry/nar. Later stages correlate these with hardware and crashes,
// so the JSON field names are part of the contract.
type NARTrace struct {
	// TraceID is "<tester id>-nar-<seq>", stable for a seed.
	TraceID         string   `json:"trace_id"`
	TesterID        string   `json:"tester_id"`
	Seq             int      `json:"seq"`
	Hardware        Hardware `json:"hardware"`
	Model           string   `json:"model"`
	Backend         Backend  `json:"backend"`
	PromptTokens    int      `json:"prompt_tokens"`
	GeneratedTokens int      `json:"generated_tokens"`
	// TTFTMillis is the time to first token; zero when none came (OOM).
	TTFTMillis      float64 `json:"ttft_ms"`
	TokensPerSecond float64 `json:"tokens_per_s"`
	// PeakVRAMMiB is zero on the CPU backend.
	PeakVRAMMiB int     `json:"peak_vram_mib"`
	Outcome     Outcome `json:"outcome"`
	// Spans break the inference into load, prefill and decode, the shape
	// the gateway's /v1/telemetry/nar counts.
	Spans []NARSpan `json:"spans"`
	// Time is set when the trace is sent, so plans stay deterministic.
	Time time.Time `json:"time,omitzero"`
}

// NARSpan is one phase of an inference, in milliseconds from its start.
type NARSpan struct {
	Name       string  `json:"name"`
	StartMs    float64 `json:"start_ms"`
	DurationMs float64 `json:"duration_ms"`
}

// NARModel is a quantised on-device model a client can run.
type NARModel struct {
	Name       string
	WeightsMiB int
	// KVMiBPerKTok is the KV cache per thousand tokens of context.
	KVMiBPerKTok int
}

// NARModels are the models clients run, smallest first.
var NARModels = []NARModel{
	{"nar-tiny-0.5b-q4", 420, 12},
	{"nar-small-3b-q4", 2000, 110},
	{"nar-base-8b-q4", 4700, 130},
	{"nar-large-14b-q4", 8600, 200},
}

// backendCost holds per-backend efficiency (share of peak memory bandwidth
// reached while decoding), runtime overhead and crash rate.
var backendCost = map[Backend]struct {
	efficiency  float64
	overheadMiB int
	crashRate   float64
}{
	CUDA:   {0.7, 350, 0.004},
	ROCm:   {0.6, 400, 0.02},
	Vulkan: {0.5, 250, 0.012},
	Metal:  {0.65, 150, 0.006},
	CPU:    {0.55, 100, 0.003},
}

// SimulateNAR draws a plausible inference on hw: decoding speed follows
// memory bandwidth (so the CPU backend is slow), a model that does not fit
// in VRAM (or in half of RAM on the CPU backend) runs out of memory, and
// crashes are likelier on young backends and shared-memory GPUs.
func SimulateNAR(rng *rand.Rand, testerID string, seq int, hw Hardware) NARTrace {
	g, _ := findGPU(hw.GPU)
	c, _ := findCPU(hw.CPU)
	cost, ok := backendCost[hw.Backend]
	if !ok {
		cost = backendCost[CPU]
	}
	budget := hw.VRAMMiB
	if hw.Backend == CPU {
		budget = hw.RAMGiB * 1024 / 2
	}
	m := chooseModel(rng, budget)
	t := NARTrace{
		TraceID: fmt.Sprintf("%s-nar-%d", testerID, seq), TesterID: testerID, Seq: seq, Hardware: hw, Model: m.Name, Backend: hw.Backend,
		PromptTokens:    int(120 * math.Exp(rng.Float64()*3)), // 120 .. ~2400
		GeneratedTokens: 32 + rng.IntN(481),
	}
	needed := m.WeightsMiB + m.KVMiBPerKTok*(t.PromptTokens+t.GeneratedTokens)/1024 + cost.overheadMiB
	oomChance := 0.0
	switch {
	case needed > budget:
		oomChance = 0.9 // some drivers spill to shared memory and survive
	case float64(needed) > 0.85*float64(budget):
		oomChance = 0.25 // fragmentation and other applications
	}
	peak := needed
	if hw.Backend == CPU {
		peak = 0
	}
	load := round1(200 + float64(m.WeightsMiB)/20*(0.8+0.4*rng.Float64()))
	if rng.Float64() < oomChance {
		t.Outcome, t.GeneratedTokens = OutcomeOOM, 0
		if hw.Backend != CPU {
			t.PeakVRAMMiB = hw.VRAMMiB
		}
		t.Spans = []NARSpan{{Name: "load", DurationMs: load}}
		return t
	}
	t.PeakVRAMMiB = min(peak, hw.VRAMMiB)

	bandwidth, eff := g.bandwidthGBs, cost.efficiency
	if hw.Backend == CPU {
		bandwidth = c.memBWGBs
		eff *= math.Min(1, float64(hw.CPUCores)/8)
	}
	if bandwidth <= 0 {
		bandwidth = 40
	}
	jitter := 0.85 + 0.3*rng.Float64()
	tps := eff * bandwidth * 1024 / float64(m.WeightsMiB) * jitter
	prefill := tps * 25 // GPUs prefill in parallel, compute bound
	if hw.Backend == CPU {
		prefill = tps * 8 * math.Min(2, float64(hw.CPUCores)/8)
	}
	t.TokensPerSecond = round1(tps)
	prefillMs := round1(float64(t.PromptTokens) / prefill * 1000)
	t.TTFTMillis = round1(prefillMs + 30 + 90*rng.Float64())

	crash := cost.crashRate
	if g.vram == nil {
		crash *= 2 // shared-memory GPUs: driver resets under pressure
	}
	t.Outcome = OutcomeOK
	if rng.Float64() < crash {
		t.Outcome = OutcomeCrash
		t.GeneratedTokens = rng.IntN(t.GeneratedTokens)
	}
	t.Spans = []NARSpan{
		{Name: "load", DurationMs: load},
		{Name: "prefill", StartMs: load, DurationMs: prefillMs},
		{Name: "decode", StartMs: round1(load + prefillMs), DurationMs: round1(float64(t.GeneratedTokens) / tps * 1000)},
	}
	return t
}

// chooseModel mostly lets the client's "auto" setting pick the largest model
// whose weights fill at most 70% of the memory budget; the rest are players
// overriding it, which is where most OOMs come from.
func chooseModel(rng *rand.Rand, budgetMiB int) NARModel {
	if rng.Float64() < 0.3 {
		return NARModels[rng.IntN(len(NARModels))]
	}
	best := NARModels[0]
	for _, m := range NARModels {
		if float64(m.WeightsMiB) <= 0.7*float64(budgetMiB) {
			best = m
		}
	}
	return best
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

package testers

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is what an action does.
type Kind string

// Action kinds.
const (
	ListItems      Kind = "list_items"
	Buy            Kind = "buy"
	GetMission     Kind = "get_mission"
	AdvanceMission Kind = "advance_mission"
	Inventory      Kind = "inventory"
	History        Kind = "history"
	PostNAR        Kind = "post_nar"
	// Reconnect drops the tester's connections and opens new ones (flaky).
	Reconnect Kind = "reconnect"
)

// Fault is a network fault the flaky profile injects into its own request.
type Fault string

// Injected faults. Both let the request reach the server, so its outcome is
// unknown to the client, the case races hide in.
const (
	NoFault Fault = ""
	// FaultDrop cuts the connection as the response arrives.
	FaultDrop Fault = "drop"
	// FaultTimeout holds the response back past the client's timeout.
	FaultTimeout Fault = "timeout"
)

// Action is one intended step of a tester.
type Action struct {
	Kind    Kind `json:"kind"`
	Item    int  `json:"item,omitempty"`
	Mission int  `json:"mission,omitempty"`
	// Drop, for a trader's buy, is the drop tick to wait for (1, 2, ...).
	Drop  int   `json:"drop,omitempty"`
	Fault Fault `json:"fault,omitempty"`
	// Think is the pause after the action, already scaled.
	Think time.Duration `json:"think"`
	NAR   *NARTrace     `json:"nar,omitempty"`
}

// Request gives the HTTP method and path of the action for player; ok is
// false for actions that send nothing (Reconnect).
func (a Action) Request(player string) (method, path string, ok bool) {
	switch a.Kind {
	case ListItems:
		return "GET", "/v1/items", true
	case Buy:
		return "POST", fmt.Sprintf("/v1/items/%d/buy", a.Item), true
	case GetMission:
		return "GET", fmt.Sprintf("/v1/missions/%d", a.Mission), true
	case AdvanceMission:
		return "POST", fmt.Sprintf("/v1/missions/%d/advance", a.Mission), true
	case Inventory:
		return "GET", "/v1/players/" + player + "/inventory", true
	case History:
		return "GET", "/v1/players/" + player + "/history", true
	case PostNAR:
		return "POST", "/v1/telemetry/nar", true
	}
	return "", "", false
}

// Script is a tester's deterministic stream of intended actions. It is
// endless; the action budget and the duration bound how much is used.
type Script struct {
	pop    Population
	t      Tester
	rng    *rand.Rand
	queue  []Action
	narSeq int
	// trader: the next drop to snipe; grinder: current mission and the
	// advances left on it.
	nextDrop, mission, left int
}

// Script returns a fresh script for t; the same population and tester
// always give the same actions.
func (p Population) Script(t Tester) *Script {
	return &Script{pop: p, t: t, rng: p.rng(t.Index, streamScript), nextDrop: 1}
}

// Next returns the next intended action.
func (s *Script) Next() Action {
	for len(s.queue) == 0 {
		s.plan()
	}
	a := s.queue[0]
	s.queue = s.queue[1:]
	return a
}

// Actions returns the next n actions.
func (s *Script) Actions(n int) []Action {
	out := make([]Action, n)
	for i := range out {
		out[i] = s.Next()
	}
	return out
}

type weighted struct {
	kind   Kind
	weight float64
}

var (
	casualWeights = []weighted{{ListItems, 28}, {GetMission, 20}, {Inventory, 18}, {History, 6}, {Buy, 6}, {AdvanceMission, 6}, {PostNAR, 8}}
	flakyWeights  = []weighted{{ListItems, 20}, {GetMission, 15}, {AdvanceMission, 15}, {Buy, 10}, {Inventory, 15}, {History, 5}, {PostNAR, 8}, {Reconnect, 12}}
	botWeights    = []weighted{{History, 40}, {Inventory, 30}, {ListItems, 15}, {GetMission, 10}, {AdvanceMission, 3}, {PostNAR, 2}}
)

// plan appends the profile's next few actions to the queue.
func (s *Script) plan() {
	switch s.t.Profile {
	case Trader:
		// Browse, then snipe at the next drop; sometimes sit one out.
		s.push(Action{Kind: ListItems}, 50*time.Millisecond, 250*time.Millisecond)
		hot := s.pop.HotItems(s.nextDrop)
		s.push(Action{Kind: Buy, Drop: s.nextDrop, Item: hot[s.rng.IntN(len(hot))]}, 50*time.Millisecond, 200*time.Millisecond)
		s.nextDrop++
		if s.rng.Float64() < 0.2 {
			s.nextDrop++
		}
		if s.rng.Float64() < 0.3 {
			s.push(Action{Kind: Inventory}, 100*time.Millisecond, 300*time.Millisecond)
		}
		if s.rng.Float64() < 0.1 {
			s.push(s.nar(), 100*time.Millisecond, 300*time.Millisecond)
		}
	case Grinder:
		if s.left == 0 {
			s.mission, s.left = 1+s.rng.IntN(s.pop.Missions), 3+s.rng.IntN(6)
			s.push(Action{Kind: GetMission, Mission: s.mission}, 200*time.Millisecond, time.Second)
			return
		}
		s.left--
		s.push(Action{Kind: AdvanceMission, Mission: s.mission}, 200*time.Millisecond, time.Second)
		switch x := s.rng.Float64(); {
		case x < 0.1:
			s.push(Action{Kind: Inventory}, 200*time.Millisecond, time.Second)
		case x < 0.18:
			s.push(s.nar(), 200*time.Millisecond, time.Second)
		}
	case Flaky:
		a := s.draw(flakyWeights)
		if a.Kind != Reconnect {
			switch x := s.rng.Float64(); {
			case x < 0.12:
				a.Fault = FaultDrop
			case x < 0.2:
				a.Fault = FaultTimeout
			}
		}
		s.push(a, 300*time.Millisecond, 2*time.Second)
	case Bot:
		s.push(s.draw(botWeights), 0, 0)
	default:
		s.push(s.draw(casualWeights), 1500*time.Millisecond, 6*time.Second)
	}
}

// draw picks an action kind by weight and fills in its arguments.
func (s *Script) draw(ws []weighted) Action {
	weights := make([]float64, len(ws))
	for i, w := range ws {
		weights[i] = w.weight
	}
	a := Action{Kind: ws[pickIndex(s.rng, weights)].kind}
	switch a.Kind {
	case Buy:
		a.Item = 1 + s.rng.IntN(s.pop.Items)
	case GetMission, AdvanceMission:
		a.Mission = 1 + s.rng.IntN(s.pop.Missions)
	case PostNAR:
		return s.nar()
	}
	return a
}

func (s *Script) nar() Action {
	s.narSeq++
	t := SimulateNAR(s.rng, s.t.ID, s.narSeq, s.t.Hardware)
	return Action{Kind: PostNAR, NAR: &t}
}

// push queues a with a think time drawn from [lo, hi], scaled.
func (s *Script) push(a Action, lo, hi time.Duration) {
	think := lo
	if hi > lo {
		think += time.Duration(s.rng.Int64N(int64(hi - lo)))
	}
	a.Think = time.Duration(float64(think) * s.pop.TimeScale)
	s.queue = append(s.queue, a)
}

package plan

import (
	"strconv"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// TestPlanKeepsOnlyTheCallsOfItsNodes: a plan holds the table of Calls its
// nodes index for as long as it lives, so an exchange the filters drop must
// not leave its Call there. With one session kept of a thousand, the table
// holds that session's Call, not a thousand.
func TestPlanKeepsOnlyTheCallsOfItsNodes(t *testing.T) {
	var exs []*rprpb.Exchange
	for i := range 1000 {
		exs = append(exs, &rprpb.Exchange{Id: uint64(i + 1), Session: "s" + strconv.Itoa(i),
			Protocol: rprpb.Protocol_PROTOCOL_HTTP1, StartNs: int64(i) * 1e6, EndNs: int64(i)*1e6 + 1e5,
			Request: &rprpb.Request{Method: "GET", Path: "/x"}, Response: &rprpb.Response{Status: 200}})
	}
	p, err := Build(exs, Sessions("s1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Nodes) != 1 || p.Call(0).Session != "s1" {
		t.Fatalf("plan of %d nodes, want s1's one", len(p.Nodes))
	}
	if len(p.calls) != 1 {
		t.Errorf("the plan holds %d Calls for its 1 node", len(p.calls))
	}
}

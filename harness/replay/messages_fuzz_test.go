package replay

import (
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// FuzzMessageValues feeds arbitrary recorded and live message bytes and
// locations (a plan.json may be edited by hand) through the gRPC and
// WebSocket capture and substitution: they must never panic, and a
// substitution of a value by itself must leave the message as it was.
func FuzzMessageValues(f *testing.F) {
	f.Add(true, "[0].1", "x-REC-1003", []byte("\n\nx-REC-1003"), []byte("\n\x0bx-LIVE-2003"))
	f.Add(false, "[1]$.session", "sess-REC-41001", []byte(`{"session":"sess-REC-41001"}`), []byte(`{"session":"s-2"}`))
	f.Add(true, "[", "", []byte{0xff}, []byte{})
	f.Fuzz(func(t *testing.T, grpc bool, loc, value string, rec, live []byte) {
		part, proto := plan.PartWebSocket, rprpb.Protocol_PROTOCOL_WEBSOCKET
		if grpc {
			part, proto = plan.PartGRPC, rprpb.Protocol_PROTOCOL_GRPC
		}
		msgs := []*rprpb.Message{
			{Direction: rprpb.Direction_DIRECTION_RESPONSE, Opcode: 9},
			{Direction: rprpb.Direction_DIRECTION_RESPONSE, Data: rec, Opcode: 1},
			{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: rec, Opcode: 1},
		}
		ex := &rprpb.Exchange{Protocol: proto, Grpc: &rprpb.Grpc{Messages: msgs}, Websocket: &rprpb.WebSocket{Messages: msgs}}
		c := plan.Correlation{Value: value, Source: plan.Ref{At: plan.Location{Part: part, Path: loc}}}
		liveMsg := &rprpb.Message{Direction: rprpb.Direction_DIRECTION_RESPONSE, Data: live, Opcode: 1}
		_, _ = liveValue(c, ex, liveResponse{msgs: []*rprpb.Message{liveMsg, liveMsg}})
		_, _ = liveMessageValue(c, ex, liveMsg)
		o := rebuild(ex)
		if value != "" && o.substitute(c.Source.At, value, value) && string(o.msgs[0].data) != string(rec) {
			t.Fatalf("substituting %q by itself changed the message", value)
		}
	})
}

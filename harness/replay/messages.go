package replay

import (
	"errors"
	"strconv"
	"strings"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
)

// substituteGRPC replaces olds[i] by news[i] in the request message a
// PartGRPC location names ("[message].field.path"), re-encoding the
// enclosing lengths, every pair in one pass; hit[i] tells whether olds[i]
// was replaced. A value the planner found at that path in one occurrence
// of a repeated field is replaced in every occurrence that holds it; one
// the path no longer holds at all is looked for in every leaf of the
// message. One the path holds in a varint, with a live value that is no
// integer, is not replaced anywhere: its field keeps the recorded number.
func (o *outRequest) substituteGRPC(loc string, olds, news []string, hit []bool) {
	i, path, err := rawproto.SplitLocation(loc)
	if err != nil || i >= len(o.msgs) || o.msgs[i].compressed {
		return
	}
	m := &o.msgs[i]
	out, matched, h, err := rawproto.ReplaceEach(m.data, path, rawproto.All, olds, news)
	switch {
	case err == nil:
		m.data = out
		copy(hit, h)
	case errors.Is(err, rawproto.ErrNoField):
		matched = make([]bool, len(olds))
	default:
		return // a damaged message or path: nothing is rewritten
	}
	var ro, rn []string
	var owner []int
	for k, ok := range matched {
		if !ok {
			ro, rn, owner = append(ro, olds[k]), append(rn, news[k]), append(owner, k)
		}
	}
	if len(ro) == 0 {
		return
	}
	if out, h, err := rawproto.ReplaceAllEach(m.data, ro, rn); err == nil {
		m.data = out
		for k, ok := range h {
			hit[owner[k]] = ok
		}
	}
}

// splitFrameLocation splits a PartWebSocket path, "[frame]$.json.path".
func splitFrameLocation(loc string) (frame int, jsonPath string, ok bool) {
	rest, ok := strings.CutPrefix(loc, "[")
	if !ok {
		return 0, "", false
	}
	idx, jsonPath, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, "", false
	}
	frame, err := strconv.Atoi(idx)
	if err != nil || frame < 0 {
		return 0, "", false
	}
	return frame, jsonPath, true
}

// responseMessage returns the recorded server message the source of c
// names: its index among the server's messages of the recording, and the
// index the same message has among what a driver reports live. gRPC
// drivers report every message; WebSocket drivers report data frames only
// (text and binary: the library answers pings and closes itself), so the
// recorded index counts every frame and the live one only data frames.
func responseMessage(c plan.Correlation, rec *rprpb.Exchange) (m *rprpb.Message, loc string, live int, ok bool) {
	var msgs []*rprpb.Message
	var idx int
	switch c.Source.At.Part {
	case plan.PartGRPC:
		i, path, err := rawproto.SplitLocation(c.Source.At.Path)
		if err != nil {
			return nil, "", 0, false
		}
		idx, loc, msgs = i, path, rec.GetGrpc().GetMessages()
	case plan.PartWebSocket:
		i, path, ok := splitFrameLocation(c.Source.At.Path)
		if !ok {
			return nil, "", 0, false
		}
		idx, loc, msgs = i, path, rec.GetWebsocket().GetMessages()
	default:
		return nil, "", 0, false
	}
	n, data := 0, 0
	for _, x := range msgs {
		if x.GetDirection() != rprpb.Direction_DIRECTION_RESPONSE {
			continue
		}
		isData := c.Source.At.Part == plan.PartGRPC || x.GetOpcode() == 1 || x.GetOpcode() == 2
		if n == idx {
			return x, loc, data, isData
		}
		n++
		if isData {
			data++
		}
	}
	return nil, "", 0, false
}

// liveIndex is the index, among the live messages, of the message c's
// value comes from.
func liveIndex(c plan.Correlation, rec *rprpb.Exchange) (int, bool) {
	_, _, i, ok := responseMessage(c, rec)
	return i, ok
}

// liveMessageValue finds c's live value in the live message that stands
// where its recorded source stood: the leaf at the same field path (and
// the same occurrence of a repeated field), or at the same JSON path of a
// text frame, then the token at the same place in it.
func liveMessageValue(c plan.Correlation, rec *rprpb.Exchange, live *rprpb.Message) (string, bool) {
	m, loc, _, ok := responseMessage(c, rec)
	if !ok || live == nil {
		return "", false
	}
	if c.Source.At.Part == plan.PartWebSocket {
		r, ok1 := jsonLeaf(m.GetData(), loc)
		l, ok2 := jsonLeaf(live.GetData(), loc)
		if !ok1 || !ok2 {
			return "", false
		}
		return mapToken(c.Value, r, l)
	}
	data := m.GetData()
	if m.GetCompressed() {
		var ok bool
		if data, ok = decodeBody(data, firstHeader(rec.GetResponse().GetHeaders(), "grpc-encoding")); !ok {
			return "", false
		}
	}
	// By position among the field's items, not among the leaves: a live
	// binary id that parses as a message must not shift its neighbours.
	nth, ok := rawproto.ItemHolding(data, loc, c.Value)
	if !ok {
		return "", false
	}
	r, ok1 := rawproto.Item(data, loc, nth)
	l, ok2 := rawproto.Item(live.GetData(), loc, nth)
	if !ok1 || !ok2 {
		return "", false
	}
	return mapToken(c.Value, r, l)
}

// diffMessages compares a replayed gRPC call or WebSocket with the
// recorded one: whether it succeeded (grpc-status OK, or the upgrade
// accepted) and the server's bytes.
func diffMessages(rec *rprpb.Exchange, status int, grpcStatus int32, live liveResponse) *rprpb.ResponseDiff {
	d := &rprpb.ResponseDiff{}
	var recSize, liveSize int64
	for _, m := range live.msgs {
		liveSize += m.GetSize()
	}
	switch rec.GetProtocol() {
	case rprpb.Protocol_PROTOCOL_GRPC:
		for _, m := range rec.GetGrpc().GetMessages() {
			if m.GetDirection() == rprpb.Direction_DIRECTION_RESPONSE {
				recSize += m.GetSize()
			}
		}
		d.StatusClassChanged = (rec.GetGrpc().GetStatusCode() == 0) != (grpcStatus == 0)
	case rprpb.Protocol_PROTOCOL_WEBSOCKET:
		for _, m := range rec.GetWebsocket().GetMessages() {
			if m.GetDirection() == rprpb.Direction_DIRECTION_RESPONSE && (m.GetOpcode() == 1 || m.GetOpcode() == 2) {
				recSize += m.GetSize()
			}
		}
		if s := rec.GetResponse().GetStatus(); s != 0 {
			d.StatusClassChanged = s/100 != int32(status/100)
		}
	}
	if recSize > 0 && liveSize > 0 {
		d.BodySizeRatio = float64(liveSize) / float64(recSize)
	}
	return d
}

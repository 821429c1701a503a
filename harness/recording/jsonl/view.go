package jsonl

import (
	"encoding/base64"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// The view structs are the JSON shape of each schema message, written by hand
// so that the shape is stable, documented and independent of protojson's
// choices. Pointers mark fields whose absence matters to the decoder.

// Line kinds.
const (
	KindHeader   = "header"
	KindExchange = "exchange"
	KindResult   = "result"
	KindRaw      = "raw"
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that the
// strings sort as the times do.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

type headerView struct {
	Kind            string            `json:"kind"`
	FormatVersion   uint32            `json:"format_version"`
	Created         string            `json:"created,omitempty"`
	CreatedUnixNano *int64            `json:"created_unix_nano,omitempty"`
	Recorder        string            `json:"recorder,omitempty"`
	RecorderConfig  map[string]string `json:"recorder_config,omitempty"`
	Redaction       *redactionView    `json:"redaction,omitempty"`
	Clock           *clockView        `json:"clock,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Proto           string            `json:"protobuf,omitempty"`
}

type redactionView struct {
	Scheme            string   `json:"scheme,omitempty"`
	KeyID             string   `json:"key_id,omitempty"`
	PlaceholderPrefix string   `json:"placeholder_prefix,omitempty"`
	Headers           []string `json:"headers,omitempty"`
	QueryParams       []string `json:"query_params,omitempty"`
	JSONFields        []string `json:"json_fields,omitempty"`
}

type clockView struct {
	Source         string `json:"source,omitempty"`
	Anchor         string `json:"anchor,omitempty"`
	AnchorUnixNano *int64 `json:"anchor_unix_nano,omitempty"`
}

type exchangeView struct {
	Kind          string         `json:"kind"`
	ID            uint64         `json:"id"`
	Session       string         `json:"session"`
	SessionSource string         `json:"session_source,omitempty"`
	Protocol      protocol       `json:"protocol,omitempty"`
	ClientAddr    string         `json:"client_addr,omitempty"`
	ConnectionID  uint64         `json:"connection_id,omitempty"`
	StreamID      uint32         `json:"stream_id,omitempty"`
	Start         string         `json:"start,omitempty"`
	DurationMS    *float64       `json:"duration_ms,omitempty"`
	TTFBMS        *float64       `json:"ttfb_ms,omitempty"`
	StartNS       *int64         `json:"start_ns,omitempty"`
	FirstByteNS   *int64         `json:"first_byte_ns,omitempty"`
	EndNS         *int64         `json:"end_ns,omitempty"`
	Error         string         `json:"error,omitempty"`
	Request       *requestView   `json:"request,omitempty"`
	Response      *responseView  `json:"response,omitempty"`
	GRPC          *grpcView      `json:"grpc,omitempty"`
	WebSocket     *websocketView `json:"websocket,omitempty"`
	Proto         string         `json:"protobuf,omitempty"`

	// Backing storage for the derived pointers above, so that encoding does
	// not allocate them one by one.
	dur, ttfb float64
}

type requestView struct {
	Method   string     `json:"method"`
	Scheme   string     `json:"scheme,omitempty"`
	Host     string     `json:"host,omitempty"`
	Path     string     `json:"path"`
	RawQuery string     `json:"raw_query,omitempty"`
	Proto    string     `json:"proto,omitempty"`
	Headers  [][]string `json:"headers,omitempty"`
	Body     *bodyView  `json:"body,omitempty"`
	Trailers [][]string `json:"trailers,omitempty"`
}

type responseView struct {
	Status   int32      `json:"status"`
	Proto    string     `json:"proto,omitempty"`
	Headers  [][]string `json:"headers,omitempty"`
	Body     *bodyView  `json:"body,omitempty"`
	Trailers [][]string `json:"trailers,omitempty"`
}

type bodyView struct {
	Data      string `json:"data"`
	Encoding  string `json:"encoding,omitempty"`
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
}

type grpcView struct {
	Method        string        `json:"method"`
	Kind          callKind      `json:"kind,omitempty"`
	Status        int32         `json:"status"`
	StatusMessage string        `json:"status_message,omitempty"`
	Messages      []messageView `json:"messages,omitempty"`
}

type websocketView struct {
	Opaque              bool          `json:"opaque,omitempty"`
	BytesClientToServer int64         `json:"bytes_client_to_server,omitempty"`
	BytesServerToClient int64         `json:"bytes_server_to_client,omitempty"`
	Messages            []messageView `json:"messages,omitempty"`
}

type messageView struct {
	Direction  direction `json:"direction,omitempty"`
	At         string    `json:"at,omitempty"`
	AtNS       *int64    `json:"at_ns,omitempty"`
	Data       string    `json:"data"`
	Encoding   string    `json:"encoding,omitempty"`
	Compressed bool      `json:"compressed,omitempty"`
	Truncated  bool      `json:"truncated,omitempty"`
	Size       int64     `json:"size"`
	Opcode     uint32    `json:"opcode,omitempty"`
}

type rawView struct {
	Kind  string `json:"kind"`
	Proto string `json:"protobuf"`
}

// encodingBase64 is the only explicit payload encoding; text has none.
const encodingBase64 = "base64"

// wall formats an offset on the recording's clock as wall time.
func wall(anchor, ns int64) string {
	return time.Unix(0, anchor+ns).UTC().Format(timeLayout)
}

// ---- proto → view ----

func newHeaderView(h *rprpb.FileHeader) *headerView {
	v := &headerView{
		Kind:           KindHeader,
		FormatVersion:  h.GetFormatVersion(),
		Recorder:       h.GetRecorder(),
		RecorderConfig: h.GetRecorderConfig(),
		Labels:         h.GetLabels(),
	}
	if n := h.GetCreatedUnixNano(); n != 0 {
		v.Created = wall(0, n)
		v.CreatedUnixNano = &n
	}
	if r := h.GetRedaction(); r != nil {
		v.Redaction = &redactionView{
			Scheme: r.Scheme, KeyID: r.KeyId, PlaceholderPrefix: r.PlaceholderPrefix,
			Headers: r.Headers, QueryParams: r.QueryParams, JSONFields: r.JsonFields,
		}
	}
	if c := h.GetClock(); c != nil {
		a := c.AnchorUnixNano
		v.Clock = &clockView{Source: c.Source, AnchorUnixNano: &a}
		if a != 0 {
			v.Clock.Anchor = wall(0, a)
		}
	}
	return v
}

func (v *exchangeView) fill(ex *rprpb.Exchange, anchor int64) {
	*v = exchangeView{
		Kind:          KindExchange,
		ID:            ex.Id,
		Session:       ex.Session,
		SessionSource: ex.SessionSource,
		Protocol:      protocol(ex.Protocol),
		ClientAddr:    ex.ClientAddr,
		ConnectionID:  ex.ConnectionId,
		StreamID:      ex.StreamId,
		Start:         wall(anchor, ex.StartNs),
		StartNS:       &ex.StartNs,
		EndNS:         &ex.EndNs,
		Error:         ex.Error,
	}
	v.dur = float64(ex.EndNs-ex.StartNs) / 1e6
	v.DurationMS = &v.dur
	if ex.FirstByteNs != 0 {
		v.FirstByteNS = &ex.FirstByteNs
		v.ttfb = float64(ex.FirstByteNs-ex.StartNs) / 1e6
		v.TTFBMS = &v.ttfb
	}
	if r := ex.Request; r != nil {
		v.Request = &requestView{
			Method: r.Method, Scheme: r.Scheme, Host: r.Host, Path: r.Path,
			RawQuery: r.RawQuery, Proto: r.Proto,
			Headers: headersView(r.Headers), Body: newBodyView(r.Body), Trailers: headersView(r.Trailers),
		}
	}
	if r := ex.Response; r != nil {
		v.Response = &responseView{
			Status: r.Status, Proto: r.Proto,
			Headers: headersView(r.Headers), Body: newBodyView(r.Body), Trailers: headersView(r.Trailers),
		}
	}
	if g := ex.Grpc; g != nil {
		v.GRPC = &grpcView{
			Method: g.FullMethod, Kind: callKind(g.Kind), Status: g.StatusCode,
			StatusMessage: g.StatusMessage, Messages: messagesView(g.Messages, anchor),
		}
	}
	if w := ex.Websocket; w != nil {
		v.WebSocket = &websocketView{
			Opaque: w.Opaque, BytesClientToServer: w.BytesClientToServer,
			BytesServerToClient: w.BytesServerToClient, Messages: messagesView(w.Messages, anchor),
		}
	}
}

func headersView(hs []*rprpb.Header) [][]string {
	if len(hs) == 0 {
		return nil
	}
	out := make([][]string, len(hs))
	for i, h := range hs {
		e := make([]string, 0, 1+len(h.GetValues()))
		out[i] = append(append(e, h.GetName()), h.GetValues()...)
	}
	return out
}

// payload picks the text or base64 form of captured bytes.
func payload(b []byte) (data, encoding string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), encodingBase64
}

func newBodyView(b *rprpb.Body) *bodyView {
	if b == nil {
		return nil
	}
	v := &bodyView{Size: b.Size, Truncated: b.Truncated}
	v.Data, v.Encoding = payload(b.Data)
	return v
}

func messagesView(ms []*rprpb.Message, anchor int64) []messageView {
	if len(ms) == 0 {
		return nil
	}
	out := make([]messageView, len(ms))
	for i, m := range ms {
		if m == nil {
			m = &rprpb.Message{}
		}
		v := &out[i]
		*v = messageView{
			Direction: direction(m.Direction), At: wall(anchor, m.AtNs), AtNS: &m.AtNs,
			Compressed: m.Compressed, Truncated: m.Truncated, Size: m.Size, Opcode: m.Opcode,
		}
		v.Data, v.Encoding = payload(m.Data)
	}
	return out
}

// ---- view → proto ----

// fieldError names the JSON field a conversion failed on.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %v", e.field, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

func fieldErrf(field, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

func (v *headerView) header() (*rprpb.FileHeader, error) {
	h := &rprpb.FileHeader{
		FormatVersion:  v.FormatVersion,
		Recorder:       v.Recorder,
		RecorderConfig: v.RecorderConfig,
		Labels:         v.Labels,
	}
	switch {
	case v.CreatedUnixNano != nil:
		h.CreatedUnixNano = *v.CreatedUnixNano
	case v.Created != "":
		n, err := parseWall("created", v.Created, 0)
		if err != nil {
			return nil, err
		}
		h.CreatedUnixNano = n
	}
	if r := v.Redaction; r != nil {
		h.Redaction = &rprpb.RedactionPolicy{
			Scheme: r.Scheme, KeyId: r.KeyID, PlaceholderPrefix: r.PlaceholderPrefix,
			Headers: r.Headers, QueryParams: r.QueryParams, JsonFields: r.JSONFields,
		}
	}
	if c := v.Clock; c != nil {
		h.Clock = &rprpb.Clock{Source: c.Source}
		switch {
		case c.AnchorUnixNano != nil:
			h.Clock.AnchorUnixNano = *c.AnchorUnixNano
		case c.Anchor != "":
			n, err := parseWall("clock.anchor", c.Anchor, 0)
			if err != nil {
				return nil, err
			}
			h.Clock.AnchorUnixNano = n
		}
	}
	return h, nil
}

func (v *exchangeView) exchange(anchor int64) (*rprpb.Exchange, error) {
	ex := &rprpb.Exchange{
		Id:            v.ID,
		Session:       v.Session,
		SessionSource: v.SessionSource,
		ConnectionId:  v.ConnectionID,
		StreamId:      v.StreamID,
		Protocol:      rprpb.Protocol(v.Protocol),
		ClientAddr:    v.ClientAddr,
		Error:         v.Error,
	}
	var err error
	switch {
	case v.StartNS != nil:
		ex.StartNs = *v.StartNS
	case v.Start != "":
		if ex.StartNs, err = parseWall("start", v.Start, anchor); err != nil {
			return nil, err
		}
	}
	switch {
	case v.EndNS != nil:
		ex.EndNs = *v.EndNS
	case v.DurationMS != nil:
		if ex.EndNs, err = addMillis("duration_ms", ex.StartNs, *v.DurationMS); err != nil {
			return nil, err
		}
	}
	switch {
	case v.FirstByteNS != nil:
		ex.FirstByteNs = *v.FirstByteNS
	case v.TTFBMS != nil:
		if ex.FirstByteNs, err = addMillis("ttfb_ms", ex.StartNs, *v.TTFBMS); err != nil {
			return nil, err
		}
	}
	if r := v.Request; r != nil {
		ex.Request = &rprpb.Request{
			Method: r.Method, Scheme: r.Scheme, Host: r.Host, Path: r.Path,
			RawQuery: r.RawQuery, Proto: r.Proto,
		}
		if ex.Request.Headers, err = headersProto("request.headers", r.Headers); err != nil {
			return nil, err
		}
		if ex.Request.Trailers, err = headersProto("request.trailers", r.Trailers); err != nil {
			return nil, err
		}
		if ex.Request.Body, err = r.Body.body("request.body"); err != nil {
			return nil, err
		}
	}
	if r := v.Response; r != nil {
		ex.Response = &rprpb.Response{Status: r.Status, Proto: r.Proto}
		if ex.Response.Headers, err = headersProto("response.headers", r.Headers); err != nil {
			return nil, err
		}
		if ex.Response.Trailers, err = headersProto("response.trailers", r.Trailers); err != nil {
			return nil, err
		}
		if ex.Response.Body, err = r.Body.body("response.body"); err != nil {
			return nil, err
		}
	}
	if g := v.GRPC; g != nil {
		ex.Grpc = &rprpb.Grpc{
			FullMethod: g.Method, Kind: rprpb.CallKind(g.Kind),
			StatusCode: g.Status, StatusMessage: g.StatusMessage,
		}
		if ex.Grpc.Messages, err = messagesProto("grpc.messages", g.Messages, anchor); err != nil {
			return nil, err
		}
	}
	if w := v.WebSocket; w != nil {
		ex.Websocket = &rprpb.WebSocket{
			Opaque: w.Opaque, BytesClientToServer: w.BytesClientToServer,
			BytesServerToClient: w.BytesServerToClient,
		}
		if ex.Websocket.Messages, err = messagesProto("websocket.messages", w.Messages, anchor); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

func headersProto(field string, hs [][]string) ([]*rprpb.Header, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	out := make([]*rprpb.Header, len(hs))
	for i, h := range hs {
		if len(h) == 0 {
			return nil, fieldErrf(fmt.Sprintf("%s[%d]", field, i), "empty header entry, want [name, value...]")
		}
		out[i] = &rprpb.Header{Name: h[0]}
		if len(h) > 1 {
			out[i].Values = h[1:]
		}
	}
	return out, nil
}

func (v *bodyView) body(field string) (*rprpb.Body, error) {
	if v == nil {
		return nil, nil
	}
	data, err := unpayload(field, v.Data, v.Encoding)
	if err != nil {
		return nil, err
	}
	return &rprpb.Body{Data: data, Truncated: v.Truncated, Size: v.Size}, nil
}

func unpayload(field, data, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		if data == "" {
			return nil, nil
		}
		return []byte(data), nil
	case encodingBase64:
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fieldErrf(field+".data", "bad base64: %v", err)
		}
		if len(b) == 0 {
			return nil, nil
		}
		return b, nil
	}
	return nil, fieldErrf(field+".encoding", "unknown encoding %q (want %q, or none for UTF-8 text)", encoding, encodingBase64)
}

func messagesProto(field string, ms []messageView, anchor int64) ([]*rprpb.Message, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	out := make([]*rprpb.Message, len(ms))
	for i := range ms {
		v := &ms[i]
		f := fmt.Sprintf("%s[%d]", field, i)
		data, err := unpayload(f, v.Data, v.Encoding)
		if err != nil {
			return nil, err
		}
		m := &rprpb.Message{
			Direction: rprpb.Direction(v.Direction), Data: data, Compressed: v.Compressed,
			Truncated: v.Truncated, Size: v.Size, Opcode: v.Opcode,
		}
		switch {
		case v.AtNS != nil:
			m.AtNs = *v.AtNS
		case v.At != "":
			if m.AtNs, err = parseWall(f+".at", v.At, anchor); err != nil {
				return nil, err
			}
		}
		out[i] = m
	}
	return out, nil
}

func parseWall(field, s string, anchor int64) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fieldErrf(field, "want an RFC 3339 time: %v", err)
	}
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, fieldErrf(field, "time %s out of range", s)
	}
	return t.UnixNano() - anchor, nil
}

func addMillis(field string, base int64, ms float64) (int64, error) {
	ns := ms * 1e6
	if math.IsNaN(ns) || math.Abs(ns) > 1<<62 {
		return 0, fieldErrf(field, "%g out of range", ms)
	}
	return base + int64(math.Round(ns)), nil
}

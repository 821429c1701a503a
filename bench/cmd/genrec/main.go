// Command genrec writes a synthetic recording for the replay benchmark: N
// simple GET exchanges spread over a fixed number of concurrent session
// slots, recorded at a constant rate, with request headers and ~1 KiB JSON
// responses of realistic size and no correlated values. The shape is chosen
// so that `reprise replay --timing asap` behaves like a closed loop of
// -sessions workers (each session is a chain: a request starts after the
// previous one of its slot ended) and `--timing recorded` sends exactly
// -rate requests per second.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.out, "out", "", "recording to write (.rpr)")
	flag.IntVar(&cfg.n, "n", 100_000, "number of exchanges")
	flag.IntVar(&cfg.slots, "sessions", 64, "concurrent session slots (asap concurrency)")
	flag.IntVar(&cfg.sessionLen, "session-len", 0, "requests per session before its slot starts a new one (0: one session per slot)")
	flag.Float64Var(&cfg.rate, "rate", 1000, "recorded requests per second (the spacing of start times)")
	flag.DurationVar(&cfg.service, "service", 200*time.Microsecond, "recorded service time of every exchange")
	flag.StringVar(&cfg.targets, "vegeta-targets", "", "also write the first requests as a vegeta targets file, against -target-base")
	flag.StringVar(&cfg.targetBase, "target-base", "http://127.0.0.1:8080", "base URL for -vegeta-targets")
	flag.Parse()
	if err := run(cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "genrec:", err)
		os.Exit(1)
	}
}

type config struct {
	out        string
	n          int
	slots      int
	sessionLen int
	rate       float64
	service    time.Duration
	targets    string
	targetBase string
}

// maxTargets bounds the vegeta targets file: vegeta cycles through it.
const maxTargets = 1000

func (c config) validate() error {
	switch {
	case c.out == "":
		return errors.New("-out is required")
	case c.n < 1:
		return fmt.Errorf("-n %d: want at least 1", c.n)
	case c.slots < 1:
		return fmt.Errorf("-sessions %d: want at least 1", c.slots)
	case c.sessionLen < 0:
		return fmt.Errorf("-session-len %d: want 0 or more", c.sessionLen)
	case !(c.rate > 0):
		return fmt.Errorf("-rate %v: want > 0", c.rate)
	case c.service <= 0:
		return fmt.Errorf("-service %v: want > 0", c.service)
	}
	// A slot's next request starts slots/rate after its previous one; it
	// must start after that one ended, or the planner sees no order edge
	// and asap mode stops being a closed loop.
	if gap := time.Duration(float64(c.slots) / c.rate * float64(time.Second)); c.service >= gap {
		return fmt.Errorf("-service %v: must be shorter than sessions/rate = %v, so that each session is a chain", c.service, gap)
	}
	return nil
}

func run(c config, log io.Writer) error {
	if err := c.validate(); err != nil {
		return err
	}
	anchor := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC).UnixNano()
	w, err := recording.Create(c.out, &rprpb.FileHeader{
		FormatVersion:   recording.FormatVersion,
		CreatedUnixNano: anchor,
		Recorder:        "bench/cmd/genrec",
		RecorderConfig: map[string]string{"n": strconv.Itoa(c.n), "sessions": strconv.Itoa(c.slots),
			"session_len": strconv.Itoa(c.sessionLen), "rate": strconv.FormatFloat(c.rate, 'g', -1, 64),
			"service": c.service.String()},
		Clock: &rprpb.Clock{Source: "imported", AnchorUnixNano: anchor},
	})
	if err != nil {
		return err
	}
	for i := range c.n {
		if err := w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: c.exchange(i)}}); err != nil {
			w.Close()
			return fmt.Errorf("%s: exchange %d: %w", c.out, i+1, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", c.out, err)
	}
	if c.targets != "" {
		if err := c.writeTargets(); err != nil {
			return err
		}
	}
	st, err := os.Stat(c.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "genrec: %s: %d exchanges, %d session slots, %.0f/s recorded, %d bytes\n",
		c.out, c.n, c.slots, c.rate, st.Size())
	return nil
}

// exchange is the i-th recorded exchange. Slot i%slots owns it; within a
// slot, sessions rotate every sessionLen requests, each on its own
// recorded connection.
func (c config) exchange(i int) *rprpb.Exchange {
	slot, round := i%c.slots, i/c.slots
	sess := slot
	if c.sessionLen > 0 {
		sess = slot + c.slots*(round/c.sessionLen)
	}
	start := int64(float64(i) / c.rate * 1e9)
	item := strconv.Itoa(100000 + (i*7919)%900000) // spread over many routes' ids
	return &rprpb.Exchange{
		Id:            uint64(i + 1),
		Session:       "bench-" + strconv.Itoa(sess),
		SessionSource: "header:x-session",
		ConnectionId:  uint64(sess + 1),
		Protocol:      rprpb.Protocol_PROTOCOL_HTTP1,
		ClientAddr:    "127.0.0.1:" + strconv.Itoa(40000+slot),
		StartNs:       start,
		FirstByteNs:   start + int64(c.service)*3/4,
		EndNs:         start + int64(c.service),
		Request: &rprpb.Request{
			Method: "GET", Scheme: "http", Host: "shop.example:8080", Proto: "HTTP/1.1",
			Path: "/v1/items/" + item, RawQuery: "view=full&lang=en",
			Headers: []*rprpb.Header{
				{Name: "User-Agent", Values: []string{"bench-client/1.0 (linux; amd64)"}},
				{Name: "Accept", Values: []string{"application/json"}},
				{Name: "Accept-Language", Values: []string{"en-GB,en;q=0.9"}},
				{Name: "X-Session", Values: []string{"bench-" + strconv.Itoa(sess)}},
				{Name: "X-Request-Id", Values: []string{fmt.Sprintf("req-%016x", uint64(i)*0x9e3779b97f4a7c15)}},
			},
			Body: &rprpb.Body{},
		},
		Response: &rprpb.Response{
			Status: 200, Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{
				{Name: "Content-Type", Values: []string{"application/json"}},
				{Name: "Content-Length", Values: []string{strconv.Itoa(len(responseBody))}},
				{Name: "Date", Values: []string{"Fri, 02 Jan 2026 15:04:05 GMT"}},
			},
			Body: &rprpb.Body{Data: responseBody, Size: int64(len(responseBody))},
		},
	}
}

// responseBody is ~1 KiB of item JSON, the size bench/cmd/backend answers
// with. Its values are short or never sent back, so the planner finds no
// correlations: the benchmark measures the executor, not substitution.
var responseBody = func() []byte {
	var b strings.Builder
	b.WriteString(`{"id":123,"name":"Sword of Benchmarks","price":{"amount":1999,"currency":"EUR"},"tags":[`)
	for i := 0; b.Len() < 960; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"tag-` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`],"stock":42}`)
	return []byte(b.String())
}()

// writeTargets writes the first requests in vegeta's http target format,
// headers included, so both tools send the same requests.
func (c config) writeTargets() error {
	var b strings.Builder
	base := strings.TrimSuffix(c.targetBase, "/")
	for i := range min(c.n, maxTargets) {
		req := c.exchange(i).GetRequest()
		fmt.Fprintf(&b, "%s %s%s?%s\n", req.GetMethod(), base, req.GetPath(), req.GetRawQuery())
		for _, h := range req.GetHeaders() {
			for _, v := range h.GetValues() {
				fmt.Fprintf(&b, "%s: %s\n", h.GetName(), v)
			}
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(c.targets, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("-vegeta-targets: %w", err)
	}
	return nil
}

package plan_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// synthetic builds a recording shaped like the reference stack: logins in
// one shared client-address session, each issuing the token of one tester
// session; buys that issue order ids which later requests fetch; catalogue
// reads full of small ids. Deterministic for a seed.
func synthetic(n int, seed uint64) []*rprpb.Exchange {
	rng := rand.New(rand.NewPCG(seed, 1))
	sessions := max(1, n/100)
	type state struct {
		name  string
		token string
		at    int64
		order string
	}
	st := make([]state, sessions)
	out := make([]*rprpb.Exchange, 0, n)
	loginAt := int64(0)
	for i := range st {
		st[i] = state{name: fmt.Sprintf("tester-%05d", i), token: fmt.Sprintf("rpr-redacted-%024x", rng.Uint64())}
	}
	id := uint64(0)
	add := func(sess, method, path string, start, dur int64, hdrs [][2]string, body string) {
		id++
		e := ex{id: id, session: sess, method: method, path: path, reqHeaders: hdrs, respBody: body}.pb()
		e.StartNs, e.EndNs = start, start+dur
		out = append(out, e)
	}
	for i := range st {
		if len(out) >= n {
			break
		}
		loginAt += int64(rng.IntN(5)+1) * int64(time.Millisecond)
		add("127.0.0.1", "POST", "/v1/login", loginAt, int64(time.Millisecond), nil,
			`{"token":"`+st[i].token+`","player_id":"`+st[i].name+`","balance":1000}`)
		st[i].at = loginAt + 2*int64(time.Millisecond)
	}
	for len(out) < n {
		s := &st[rng.IntN(sessions)]
		auth := [][2]string{{"Authorization", "Bearer " + s.token}}
		dur := int64(rng.IntN(3000)+200) * int64(time.Microsecond)
		switch r := rng.IntN(10); {
		case r < 5:
			add(s.name, "GET", "/v1/items", s.at, dur, auth, `{"items":[{"id":1,"name":"Rusty Blade","price":47},{"id":2,"name":"Gilded Blade","price":84}]}`)
		case r < 7:
			s.order = fmt.Sprintf("ord-%08d", id+1)
			add(s.name, "POST", fmt.Sprintf("/v1/items/%d/buy", rng.IntN(50)+1), s.at, dur, auth,
				`{"order_id":"`+s.order+`","balance":987,"tx":"0x`+fmt.Sprintf("%064x", rng.Uint64())+`"}`)
		case s.order != "":
			add(s.name, "GET", "/v1/orders/"+s.order, s.at, dur, auth, `{"status":"done"}`)
		default:
			add(s.name, "GET", "/v1/players/"+s.name+"/inventory", s.at, dur, auth, `{"items":[]}`)
		}
		// Sometimes the next request overlaps (pipelined), mostly it waits.
		if rng.IntN(4) == 0 {
			s.at += dur / 2
		} else {
			s.at += dur + int64(rng.IntN(20000))*int64(time.Microsecond)
		}
	}
	return out
}

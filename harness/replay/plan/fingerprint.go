package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// Fingerprint names what a plan replays: a hash of its nodes (exchange
// ids, connections, recorded times, sessions, methods, routes, clones),
// edges and correlations, so two plans built from different recordings,
// or from one recording with other filters or amplification, differ. A
// shard has the fingerprint of the plan it was cut from, so the shards of
// one plan share it and a merge can tell them from another plan's.
func (p *Plan) Fingerprint() string {
	if p.whole != "" {
		return p.whole
	}
	h := sha256.New()
	var b []byte
	flush := func() {
		if len(b) >= 1<<16 {
			h.Write(b)
			b = b[:0]
		}
	}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(v uint64) { b = binary.AppendUvarint(b, v) }
	num(uint64(len(p.calls)))
	for _, c := range p.calls {
		str(c.Session)
		str(c.Protocol)
		str(c.Method)
		str(c.Route)
		num(uint64(c.Clone))
		flush()
	}
	num(uint64(len(p.Nodes)))
	for _, n := range p.Nodes {
		num(n.ID)
		num(n.Connection)
		num(uint64(n.Start))
		num(uint64(n.End))
		num(uint64(n.call))
		flush()
	}
	num(uint64(len(p.Edges)))
	for _, e := range p.Edges {
		num(uint64(e.From))
		num(uint64(e.To))
		num(uint64(e.Kind))
		flush()
	}
	num(uint64(len(p.Correlations)))
	for _, c := range p.Correlations {
		str(c.Value)
		num(uint64(c.Source.Node))
		num(uint64(len(c.Uses)))
		flush()
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Fingerprint names what a schedule replays: its plan's fingerprint, its
// mode and speed, and in rate mode the curve, so that runs of one plan at
// other rates differ too.
func (s *Schedule) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(s.plan.Fingerprint()))
	h.Write([]byte(s.mode.String()))
	writeFloat(h, s.speed)
	for _, pt := range s.curve {
		writeFloat(h, float64(pt.At))
		writeFloat(h, pt.PerSecond)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func writeFloat(h hash.Hash, f float64) {
	h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(f)))
}

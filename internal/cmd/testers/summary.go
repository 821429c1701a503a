package testers

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/reprise-dev/reprise/compose/testers"
)

// summary is what the command prints, in table or JSON form.
type summary struct {
	Target   string               `json:"target"`
	Seed     uint64               `json:"seed"`
	Count    int                  `json:"count"`
	Mix      string               `json:"mix"`
	ElapsedS float64              `json:"elapsed_s"`
	Profiles []profileRow         `json:"profiles"`
	Total    testers.ProfileStats `json:"total"`
}

type profileRow struct {
	Profile testers.Profile `json:"profile"`
	testers.ProfileStats
}

func newSummary(target string, p testers.Population, st testers.Stats) summary {
	s := summary{
		Target: target, Seed: p.Seed, Count: p.Count, Mix: p.Mix.String(),
		ElapsedS: st.Elapsed.Seconds(), Total: st.Total(), Profiles: []profileRow{},
	}
	for _, prof := range testers.Profiles {
		if ps, ok := st.Profiles[prof]; ok {
			s.Profiles = append(s.Profiles, profileRow{prof, ps})
		}
	}
	return s
}

func (s summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func (s summary) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\ttesters\tactions\trequests\t2xx\t4xx\t5xx\t409\ttransport err\tintentional err\tretries\tnar posts\t")
	row := func(name string, p testers.ProfileStats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, p.Testers, p.Actions, p.Requests,
			p.Status.S2xx, p.Status.S4xx, p.Status.S5xx, p.Conflicts, p.TransportErrors, p.Intentional, p.Retries, p.NARPosts)
	}
	for _, r := range s.Profiles {
		row(string(r.Profile), r.ProfileStats)
	}
	row("total", s.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	t := s.Total
	_, err := fmt.Fprintf(w, "%d testers (%d logged in, %d failed to) ran %.1fs against %s; %d requests cut off at the end, %d reconnects\n",
		t.Testers, t.Logins, t.LoginFailures, s.ElapsedS, s.Target, t.Interrupted, t.Reconnects)
	return err
}

package eql

import (
	"github.com/vigilsec/vigil/event"
	"sort"
	"strings"
)

// sample by: for every join key (sample-level keys, then the term's own,
// positionally), one sample made of one event per term, each term taking
// the first matching event (input order) not already used by an earlier
// term. Samples are unordered in time; ES returns them sorted by join
// key, which we do too. Unlike sequences no timestamp is needed.

type sampler struct {
	prog  *Program
	cands []*cand
}

func newSampler(p *Program) *sampler { return &sampler{prog: p} }

func (s *sampler) add(c *cand) { s.cands = append(s.cands, c) }

func (s *sampler) finish() []*SequenceResult {
	nTerms := len(s.prog.Query.Sample.Terms)
	type group struct {
		key   keyTuple
		terms [][]*cand
	}
	groups := map[string]*group{}
	for _, c := range s.cands {
		for i, t := range c.stages {
			for _, k := range c.keys[i] {
				g := groups[k.enc]
				if g == nil {
					g = &group{key: k, terms: make([][]*cand, nTerms)}
					groups[k.enc] = g
				}
				g.terms[t] = append(g.terms[t], c)
			}
		}
	}
	var out []*SequenceResult
	for _, g := range groups {
		used := map[*cand]bool{}
		hits := make([]*Hit, 0, nTerms)
		for _, list := range g.terms {
			var pick *cand
			for _, c := range list {
				if !used[c] {
					pick = c
					break
				}
			}
			if pick == nil {
				hits = nil
				break
			}
			used[pick] = true
			hits = append(hits, pick.hit)
		}
		if hits != nil {
			out = append(out, &SequenceResult{JoinKeys: g.key.vals, Events: hits})
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessKeys(out[i].JoinKeys, out[j].JoinKeys) })
	if s.prog.Opts.Size >= 0 && len(out) > s.prog.Opts.Size {
		out = out[:s.prog.Opts.Size]
	}
	from, to := limits(len(out), s.prog.Query, Options{Size: NoLimit})
	return out[from:to]
}

// lessKeys orders join keys: nulls first, then by value.
func lessKeys(a, b []event.Value) bool {
	for i := range a {
		if i >= len(b) {
			return false
		}
		x, y := a[i], b[i]
		xn, yn := x.IsNull(), y.IsNull()
		if xn || yn {
			if xn != yn {
				return xn
			}
			continue
		}
		if c, ok := compareValues(x, y); ok {
			if c != 0 {
				return c < 0
			}
			continue
		}
		if c := strings.Compare(x.String(), y.String()); c != 0 {
			return c < 0
		}
	}
	return len(a) < len(b)
}

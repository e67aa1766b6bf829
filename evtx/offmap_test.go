package evtx

import (
	"math/rand"
	"testing"
)

// offMap against a Go map: random puts and gets over many resets (chunks),
// growth past the initial size, and a generation counter that wraps.
func TestOffMap(t *testing.T) {
	var m offMap[int]
	r := rand.New(rand.NewSource(3))
	for round := 0; round < 300; round++ {
		m.reset()
		if round == 150 {
			m.gen = ^uint32(0) // the next reset wraps to 0
			m.reset()
		}
		want := map[uint32]int{}
		n := r.Intn(200)
		for i := 0; i < n; i++ {
			off := uint32(r.Intn(65536))
			if r.Intn(4) == 0 {
				off = uint32(i) * 64 // clustered offsets
			}
			want[off] = i
			m.put(off, i)
			if j := r.Intn(400); true {
				g, ok := m.get(uint32(j))
				w, wok := want[uint32(j)]
				if ok != wok || g != w {
					t.Fatalf("round %d: get(%d) = %d, %v; want %d, %v", round, j, g, ok, w, wok)
				}
			}
		}
		for off, w := range want {
			if g, ok := m.get(off); !ok || g != w {
				t.Fatalf("round %d: get(%d) = %d, %v; want %d", round, off, g, ok, w)
			}
		}
		if m.n != len(want) {
			t.Fatalf("round %d: %d entries, want %d", round, m.n, len(want))
		}
	}
	// Nothing survives a reset.
	m.put(7, 1)
	m.reset()
	if _, ok := m.get(7); ok {
		t.Fatal("entry survived reset")
	}
}

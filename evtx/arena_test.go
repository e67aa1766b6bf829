package evtx

import (
	"math/rand"
	"testing"
)

// arena.utf16 (with its word-at-a-time ASCII path) decodes as decodeUTF16 (the
// unicode/utf16 reference) does: random mixes of ASCII, other BMP
// characters, surrogate pairs and unpaired surrogates, at every length
// around its 4-unit step, after text already in the arena.
func TestArenaUTF16(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	var a arena
	for i := 0; i < 20000; i++ {
		n := r.Intn(40)
		b := make([]byte, 2*n)
		for j := 0; j < n; j++ {
			var u uint16
			switch r.Intn(10) {
			case 0:
				u = uint16(0x80 + r.Intn(0xd800-0x80))
			case 1:
				u = uint16(0xd800 + r.Intn(0x800)) // surrogates, paired or not
			case 2:
				u = uint16(r.Intn(0x10000))
			default:
				u = uint16(r.Intn(0x80))
			}
			b[2*j], b[2*j+1] = byte(u), byte(u>>8)
		}
		if i%100 == 0 {
			a.reset()
		}
		before := a.str("x")
		if got, want := a.utf16(b), decodeUTF16(b); got != want {
			t.Fatalf("%x: %q, want %q", b, got, want)
		}
		if before != "x" {
			t.Fatalf("earlier arena text overwritten: %q", before)
		}
	}
}

package winlog

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/vigilsec/vigil/event"
)

// TestAppendStr: the fast path writes exactly what event.AppendJSONString
// writes, for every byte value at every position of short strings and for
// random strings.
func TestAppendStr(t *testing.T) {
	for n := 0; n < 20; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(`abc\defghij"klmnopqrstuvwxyz`[:n])
				b[pos] = byte(c)
				s := string(b)
				if got, want := string(appendStr(nil, s)), string(event.AppendJSONString(nil, s)); got != want {
					t.Fatalf("%q: %s, want %s", s, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.Intn(40))
		for j := range b {
			switch r.Intn(8) {
			case 0:
				b[j] = '\\'
			case 1:
				b[j] = byte(r.Intn(256)) // controls, UTF-8 pieces, invalid bytes
			default:
				b[j] = byte(0x20 + r.Intn(0x5f))
			}
		}
		if got, want := string(appendStr(nil, string(b))), string(event.AppendJSONString(nil, string(b))); got != want {
			t.Fatalf("%q: %s, want %s", b, got, want)
		}
	}
}

func TestAppendISOMillis(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC),
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := string(appendISOMillis(nil, tm)), tm.Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Errorf("%v: %s, want %s", tm, got, want)
		}
	}
}

// appendUnixMillis writes what appendISOMillis(time.Unix(0, ns).UTC())
// writes, for any int64 (the document keeps times as Unix nanoseconds).
func TestAppendUnixMillis(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	ns := []int64{0, -1, 1, 1e9 - 1, -1e9, -1e9 + 1, 86400e9 - 1, -86400e9, math.MaxInt64, math.MinInt64,
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC).UnixNano(),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(2100, 2, 28, 12, 0, 0, 1e6, time.UTC).UnixNano()}
	for i := 0; i < 200000; i++ {
		ns = append(ns, r.Int63()-r.Int63())
	}
	for i := 0; i < 20000; i++ { // around day and era boundaries
		ns = append(ns, (r.Int63n(200000)-100000)*86400e9+r.Int63n(3)-1)
	}
	for _, n := range ns {
		if got, want := string(appendUnixMillis(nil, n)), string(appendISOMillis(nil, time.Unix(0, n).UTC())); got != want {
			t.Fatalf("%d: %s, want %s", n, got, want)
		}
	}
}

package detect

import (
	"fmt"
	"slices"
	"testing"
)

func TestValCache(t *testing.T) {
	c := newValCache()
	h, _, ok := c.get("svchost.exe")
	if ok {
		t.Fatal("hit in an empty cache")
	}
	c.put(h, "svchost.exe", []int32{3, 7})
	if _, terms, ok := c.get("svchost.exe"); !ok || !slices.Equal(terms, []int32{3, 7}) {
		t.Fatalf("got %v %v", terms, ok)
	}
	// A value with no requirement is remembered as such.
	h, _, _ = c.get("chrome.exe")
	c.put(h, "chrome.exe", nil)
	if _, terms, ok := c.get("chrome.exe"); !ok || len(terms) != 0 {
		t.Fatalf("got %v %v", terms, ok)
	}
	// Too many terms: not cached.
	h, _, _ = c.get("many")
	c.put(h, "many", []int32{1, 2, 3, 4, 5, 6, 7})
	if _, _, ok := c.get("many"); ok {
		t.Fatal("a value over the term limit was cached")
	}
	// Values that never repeat turn it off after the trial.
	d := newValCache()
	for i := 0; i < valCacheTrial && !d.off; i++ {
		s := fmt.Sprintf("cmd.exe /c echo %d", i)
		h, _, _ := d.get(s)
		d.put(h, s, nil)
	}
	if !d.off {
		t.Error("still on for values that never repeat")
	}
}

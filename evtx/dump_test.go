package evtx

import (
	"fmt"
	"os"
	"testing"
)

// TestDump prints the records of $EVTX_DUMP as XML (a debugging aid).
func TestDump(t *testing.T) {
	path := os.Getenv("EVTX_DUMP")
	if path == "" {
		t.Skip("set EVTX_DUMP=file.evtx to print its records")
	}
	recs, errs := readAll(t, path)
	for _, r := range recs {
		fmt.Print(r.XML(), "\n")
	}
	for _, err := range errs {
		fmt.Println("ERROR:", err)
	}
}

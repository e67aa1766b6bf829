package evtx

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	sharedDir = "../../shared/telemetry/windows-evtx"
	bulkDir   = "../../shared/telemetry/windows-evtx-bulk"
)

func needDir(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference corpus %s absent (%v); skipping", dir, err)
	}
}

// readAll reads every record of a file, collecting recoverable errors.
func readAll(t testing.TB, path string) ([]*Record, []error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return nil, []error{err}
	}
	defer r.Close()
	var recs []*Record
	var errs []error
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			if !IsRecoverable(err) {
				break
			}
			continue
		}
		recs = append(recs, rec)
		if i > 10_000_000 {
			t.Fatalf("%s: runaway reader", path)
		}
	}
	return recs, errs
}

type manifestEntry struct {
	File     string         `json:"file"`
	OK       bool           `json:"python_evtx_ok"`
	Records  int            `json:"records"`
	EventIDs map[string]int `json:"eventids"`
}

func TestSharedCounts(t *testing.T) {
	needDir(t, sharedDir)
	data, err := os.ReadFile(filepath.Join(sharedDir, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m {
		recs, errs := readAll(t, filepath.Join(sharedDir, e.File))
		for _, err := range errs {
			t.Logf("%s: %v", e.File, err)
		}
		ids := map[string]int{}
		for _, r := range recs {
			s := r.System()
			ids[itoa(uint64(s.EventID))]++
		}
		if !e.OK {
			t.Logf("%s: python-evtx failed on this file; vigil read %d records %v", e.File, len(recs), ids)
			if len(recs) == 0 {
				t.Errorf("%s: no records read", e.File)
			}
			continue
		}
		if len(recs) != e.Records {
			t.Errorf("%s: %d records, manifest %d", e.File, len(recs), e.Records)
		}
		for k, n := range e.EventIDs {
			if ids[k] != n {
				t.Errorf("%s: event %s: %d records, manifest %d", e.File, k, ids[k], n)
			}
		}
	}
}

func itoa(n uint64) string { return Value{Type: Uint64Type, Num: n}.String() }

var (
	timeRe  = regexp.MustCompile(`(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?Z?`)
	eventRe = regexp.MustCompile(`(?s)<Event[ >].*?</Event>\n`)
)

func normTime(s string) string {
	return timeRe.ReplaceAllStringFunc(s, func(m string) string {
		g := timeRe.FindStringSubmatch(m)
		frac := strings.TrimRight(strings.TrimPrefix(g[3], "."), "0")
		if len(frac) > 6 {
			frac = frac[:6]
		}
		return g[1] + "T" + g[2] + "." + frac + "Z"
	})
}

// normWhole normalises a whole rendered event for comparison. Times are cut to
// milliseconds: python-evtx converts FILETIME through a float and is sometimes
// one microsecond off.
func normWhole(s string) string {
	s = normTime(unescape(s))
	return regexp.MustCompile(`(\.\d{0,3})\d*Z`).ReplaceAllString(s, "${1}Z")
}

var dataRe = regexp.MustCompile(`(?s)<Data(?: Name="([^"]*)")?>(.*?)</Data>`)

var charRefRe = regexp.MustCompile(`&#(x?)([0-9a-fA-F]+);`)

// unescape decodes XML escapes and character references and applies XML's
// end-of-line normalisation (CR LF and CR become LF), as an XML parser would:
// python-evtx writes non-ASCII characters as &#NNN; and its output has no CR.
func unescape(s string) string {
	s = charRefRe.ReplaceAllStringFunc(s, func(m string) string {
		g := charRefRe.FindStringSubmatch(m)
		base := 10
		if g[1] == "x" {
			base = 16
		}
		n, err := strconv.ParseUint(g[2], base, 32)
		if err != nil {
			return m
		}
		return string(rune(n))
	})
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&").Replace(s)
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// pyEventData extracts the EventData Data name/value pairs of each rendered event.
func pyEventData(ev string) [][2]string {
	i := strings.Index(ev, "<EventData>")
	if i < 0 {
		return nil
	}
	j := strings.Index(ev[i:], "</EventData>")
	if j < 0 {
		return nil
	}
	var out [][2]string
	for _, m := range dataRe.FindAllStringSubmatch(ev[i:i+j], -1) {
		out = append(out, [2]string{unescape(m[1]), normTime(unescape(m[2]))})
	}
	return out
}

func TestSharedEventDataMatchesPythonEvtx(t *testing.T) {
	needDir(t, sharedDir)
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.evtx"))
	for _, f := range files {
		ref, err := os.ReadFile(f + ".python-evtx.xml")
		if err != nil {
			t.Logf("%s: no python-evtx rendering", filepath.Base(f))
			continue
		}
		pyEvents := eventRe.FindAllString(string(ref), -1)
		recs, _ := readAll(t, f)
		if len(recs) != len(pyEvents) {
			t.Errorf("%s: %d records, python-evtx %d events", filepath.Base(f), len(recs), len(pyEvents))
			continue
		}
		exact, fields := 0, 0
		for i, r := range recs {
			xml := r.XML()
			if normWhole(xml) == normWhole(pyEvents[i]) {
				exact++
			} else {
				t.Errorf("%s record %d: whole-record XML differs from python-evtx:\n%s\n%s", filepath.Base(f), r.ID, xml, pyEvents[i])
			}
			want := pyEventData(pyEvents[i])
			var got [][2]string
			for _, fd := range pyEventData(xml) {
				got = append(got, fd)
			}
			if len(got) != len(want) {
				t.Errorf("%s record %d: %d EventData fields, python-evtx %d", filepath.Base(f), r.ID, len(got), len(want))
				continue
			}
			for k := range want {
				fields++
				if got[k] != want[k] {
					t.Errorf("%s record %d field %d: got %q, python-evtx %q", filepath.Base(f), r.ID, k, got[k], want[k])
				}
			}
			// The typed accessor must agree with the rendering.
			ed := r.EventData()
			for k, fd := range ed {
				if k < len(want) && want[k][0] != "" && (fd.Name != want[k][0] || normTime(unescape(fd.Value.String())) != want[k][1]) {
					t.Errorf("%s record %d: EventData()[%d] = %s=%q, want %s=%q", filepath.Base(f), r.ID, k, fd.Name, fd.Value.String(), want[k][0], want[k][1])
				}
			}
		}
		t.Logf("%s: %d records, %d EventData fields compared; %d whole records identical to python-evtx's XML (after normalising times, character references and CR LF)", filepath.Base(f), len(recs), fields, exact)
	}
}

type bulkEntry struct {
	Path    string `json:"path"`
	Records *int   `json:"records_python_evtx"`
	Failed  bool   `json:"python_evtx_failed"`
}

func TestBulkNoPanic(t *testing.T) {
	needDir(t, bulkDir)
	data, err := os.ReadFile(filepath.Join(bulkDir, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []bulkEntry
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]bulkEntry{}
	for _, e := range m {
		want[e.Path] = e
	}
	var files []string
	filepath.WalkDir(bulkDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	var match, mismatch, pyFailed, noRef, total, withErrs int
	for _, f := range files {
		rel, _ := filepath.Rel(bulkDir, f)
		rel = filepath.ToSlash(rel)
		recs, errs := readAll(t, f)
		total += len(recs)
		if len(errs) > 0 {
			withErrs++
		}
		e, ok := want[rel]
		switch {
		case !ok:
			t.Logf("%s: %d records (not in manifest)", rel, len(recs))
		case e.Failed:
			pyFailed++
			t.Logf("%s: %d records; python-evtx failed on it", rel, len(recs))
		case e.Records == nil:
			noRef++
			t.Logf("%s: %d records (no python-evtx count in manifest)", rel, len(recs))
		case *e.Records == len(recs):
			match++
		default:
			mismatch++
			t.Errorf("MISMATCH %s: %d records, manifest %d, %d errors", rel, len(recs), *e.Records, len(errs))
		}
		for i, err := range errs {
			if i >= 3 {
				t.Logf("%s: ... %d more errors", rel, len(errs)-3)
				break
			}
			var ce *ChunkError
			var re *RecordError
			if !errors.As(err, &ce) && !errors.As(err, &re) {
				t.Errorf("%s: fatal error: %v", rel, err)
			}
			t.Logf("%s: %v", rel, err)
		}
	}
	t.Logf("%d files, %d records; counts match manifest: %d, mismatch: %d, python-evtx failed: %d, no manifest count: %d; files with reported damage: %d",
		len(files), total, match, mismatch, pyFailed, noRef, withErrs)
}

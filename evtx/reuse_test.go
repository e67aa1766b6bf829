package evtx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// recordDump renders everything a record holds (XML, System, typed
// EventData/UserData values) for comparing two readings.
func recordDump(r *Record) string {
	var b bytes.Buffer
	b.WriteString(r.XML())
	for _, f := range r.EventData() {
		b.WriteString(f.Name + "=" + dumpValue(f.Value) + "\n")
	}
	for _, f := range r.UserData() {
		b.WriteString(f.Name + "=" + dumpValue(f.Value) + "\n")
	}
	return b.String()
}

// With Reuse, each record read at once equals the independent record of a
// default reader; a Clone survives further reading; default records (kept
// until the end) are not disturbed by the reader's later work.
func TestReuseAndClone(t *testing.T) {
	needDir(t, sharedDir)
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.evtx"))
	if len(files) == 0 {
		t.Skip("no files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var kept []*Record // default records
		rd, _ := NewReader(bytes.NewReader(data), int64(len(data)), f)
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			kept = append(kept, rec)
		}
		ru, _ := NewReader(bytes.NewReader(data), int64(len(data)), f)
		ru.Reuse = true
		var clones []*Record
		var prev *Record
		i := 0
		for {
			rec, err := ru.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			if prev != nil && prev != rec {
				t.Errorf("%s: Reuse returned a new *Record", filepath.Base(f))
			}
			prev = rec
			if i >= len(kept) {
				t.Fatalf("%s: more records with Reuse", filepath.Base(f))
			}
			if got, want := recordDump(rec), recordDump(kept[i]); got != want {
				t.Fatalf("%s record %d: Reuse reading differs:\n%s\nwant\n%s", filepath.Base(f), rec.ID, got, want)
			}
			clones = append(clones, rec.Clone())
			i++
		}
		if i != len(kept) {
			t.Fatalf("%s: %d records with Reuse, %d without", filepath.Base(f), i, len(kept))
		}
		for k, c := range clones {
			if got, want := recordDump(c), recordDump(kept[k]); got != want {
				t.Fatalf("%s record %d: clone changed after further reading:\n%s\nwant\n%s", filepath.Base(f), c.ID, got, want)
			}
			if c.ID != kept[k].ID || c.Offset != kept[k].Offset || !c.Time.Equal(kept[k].Time) {
				t.Errorf("%s: clone header fields differ", filepath.Base(f))
			}
		}
	}
}

// Clone copies hand-built trees too (as normaliser tests build them), arrays
// and nested BinXml values included, sharing no value memory.
func TestCloneHandBuilt(t *testing.T) {
	raw := []byte{1, 2, 3}
	arr := ArrayValue(StringType, []Value{{Type: StringType, Str: "a"}, {Type: StringType, Str: "b"}})
	inner := &Element{Name: "Inner", Values: []Value{{Type: Uint32Type, Num: 7}}}
	bx := Value{Type: BinXMLType, more: &compound{elems: []*Element{inner}}}
	root := &Element{Name: "Event", Children: []*Element{
		{Name: "System", Attrs: []Attr{{Name: "A", Value: Value{Type: BinaryType, Raw: raw}}}},
		{Name: "EventData", Values: []Value{arr, bx, {Type: StringType, Str: "text"}}},
	}}
	rec := &Record{ID: 9, Root: root}
	want := recordDump(rec) + root.Children[1].Values[1].String()
	c := rec.Clone()
	raw[0] = 0xff
	inner.Values[0].Num = 8
	arr.Items()[0].Str = "z"
	if got := recordDump(c) + c.Root.Children[1].Values[1].String(); got != want {
		t.Errorf("clone shares memory with the original:\n%s\nwant\n%s", got, want)
	}
	if c.ID != 9 || c.Root == root {
		t.Errorf("clone header/root wrong")
	}
}

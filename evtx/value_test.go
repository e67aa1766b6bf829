package evtx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"
	"time"
)

func TestValueString(t *testing.T) {
	guid := []byte{0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d}
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xe9, 0x03, 0, 0, 0xea, 0x03, 0, 0, 0xeb, 0x03, 0, 0, 0xe9, 0x03, 0, 0}
	st := make([]byte, 16)
	for i, v := range []uint16{2020, 7, 0, 12, 5, 12, 58, 295} {
		binary.LittleEndian.PutUint16(st[2*i:], v)
	}
	cases := []struct {
		v    Value
		want string
	}{
		{Value{}, ""},
		{Value{Type: StringType, Str: "a<b"}, "a<b"},
		{Value{Type: Int8Type, Num: uint64(0xffffffffffffffff)}, "-1"},
		{Value{Type: Uint32Type, Num: 4294967295}, "4294967295"},
		{Value{Type: Int64Type, Num: uint64(1) << 63}, "-9223372036854775808"},
		{Value{Type: Hex32Type, Num: 0x211}, "0x00000211"},
		{Value{Type: Hex64Type, Num: 0x8020000000000000}, "0x8020000000000000"},
		{Value{Type: SizeTType, Size: 4, Num: 0x10}, "0x00000010"},
		{Value{Type: SizeTType, Size: 8, Num: 0x10}, "0x0000000000000010"},
		{Value{Type: BoolType, Num: 1}, "True"},
		{Value{Type: BoolType}, "False"},
		{Value{Type: Real64Type, Num: math.Float64bits(1.5)}, "1.5"},
		{Value{Type: Real64Type, Num: math.Float64bits(2)}, "2.0"},
		{Value{Type: Real32Type, Num: uint64(math.Float32bits(0.25))}, "0.25"},
		{Value{Type: GUIDType, Raw: guid}, "{54849625-5478-4994-a5ba-3e3b0328c30d}"},
		{Value{Type: SIDType, Raw: sid}, "S-1-5-21-1001-1002-1003-1001"},
		{Value{Type: BinaryType, Raw: []byte{0xde, 0xad}}, "DEAD"},
		{Value{Type: FileTimeType, Num: 132390043782959080}, "2020-07-12 05:12:58.295908"},
		{Value{Type: SysTimeType, Raw: st}, "2020-07-12 05:12:58.295000"},
		{ArrayValue(StringType, []Value{{Type: StringType, Str: "a"}, {Type: StringType, Str: "b"}}), "<string>a</string>\n<string>b</string>\n"},
		{ArrayValue(Uint16Type, []Value{{Type: Uint16Type, Num: 1}, {Type: Uint16Type, Num: 2}}), "1,2"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%#x: String() = %q, want %q", c.v.Type, got, c.want)
		}
	}
	if tm, _ := (Value{Type: FileTimeType, Num: 132390043782959080}).Time(); !tm.Equal(time.Date(2020, 7, 12, 5, 12, 58, 295908000, time.UTC)) {
		t.Errorf("FILETIME = %v", tm)
	}
	if tm := FileTime(0); !tm.Equal(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("FileTime(0) = %v", tm)
	}
	if tm := FileTime(math.MaxUint64); tm.Year() != 60056 {
		t.Errorf("FileTime(max) = %v", tm)
	}
	if n, ok := (Value{Type: StringType, Str: "0x1f"}).Uint(); !ok || n != 31 {
		t.Errorf("Uint(0x1f) = %d %v", n, ok)
	}
}

func TestDecodeArrays(t *testing.T) {
	var p parser
	p.reset(make([]byte, 0))
	b := []byte{'a', 0, 'b', 0, 0, 0, 'c', 0, 0, 0}
	p.b = b
	v := p.value(StringType|ArrayFlag, 0, len(b))
	if it := v.Items(); len(it) != 2 || it[0].Str != "ab" || it[1].Str != "c" {
		t.Errorf("string array = %+v", it)
	}
	b = []byte{1, 0, 0, 0, 2, 0, 0, 0}
	p.b = b
	v = p.value(Hex32Type|ArrayFlag, 0, len(b))
	if v.String() != "0x00000001,0x00000002" {
		t.Errorf("hex32 array = %q", v.String())
	}
}

// The PARSER_EDGECASE file defeats python-evtx and libevtx; evtxinfo counts 11 records.
func TestParserEdgeCase(t *testing.T) {
	needDir(t, sharedDir)
	recs, errs := readAll(t, filepath.Join(sharedDir, "hayabusa__ID1149-RDP_success_logins__PARSER_EDGECASE.evtx"))
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	if len(recs) != 11 {
		t.Fatalf("%d records, want 11", len(recs))
	}
	for _, r := range recs {
		s := r.System()
		ud := r.UserData()
		if s.EventID != 1149 || s.Channel != "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational" || len(ud) != 3 || ud[0].Name != "Param1" {
			t.Errorf("record %d: EventID %d channel %q user data %v", r.ID, s.EventID, s.Channel, ud)
		}
		if s.TimeCreated.IsZero() || s.Computer == "" || s.EventRecordID == 0 {
			t.Errorf("record %d: incomplete System %+v", r.ID, s)
		}
	}
}

func TestSystemFields(t *testing.T) {
	needDir(t, sharedDir)
	recs, _ := readAll(t, filepath.Join(sharedDir, "hayabusa__T1136__ID4720-Local_user_created.evtx"))
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	s := recs[0].System()
	want := System{
		ProviderName: "Microsoft-Windows-Security-Auditing", ProviderGUID: "{54849625-5478-4994-a5ba-3e3b0328c30d}",
		EventID: 4720, Task: 13824, Keywords: 0x8020000000000000,
		// python-evtx prints .295908: it converts FILETIME through a float and loses the last digit.
		TimeCreated: time.Date(2020, 7, 12, 5, 12, 58, 295909000, time.UTC), EventRecordID: 2775247,
		ActivityID: "{e4d8d5c1-4f7e-0006-c2d5-d8e47e4fd601}", ProcessID: 708, ThreadID: 8464,
		Channel: "Security", Computer: "jump01.offsec.lan",
	}
	s.TimeCreated = s.TimeCreated.Truncate(time.Microsecond)
	if s != want {
		t.Errorf("System() =\n%+v\nwant\n%+v", s, want)
	}
	ed := recs[0].EventData()
	if len(ed) != 26 || ed[0].Name != "TargetUserName" || ed[0].Value.String() != "hacking-local-acct" || ed[2].Value.Type != SIDType {
		t.Errorf("EventData() = %+v", ed[:3])
	}
}

// The hand-written formatters must agree with fmt's.
func TestHexFormatting(t *testing.T) {
	for _, n := range []uint64{0, 1, 0xabc, 0xffffffff, 0x123456789, 1<<64 - 1} {
		if got, want := hexString(n, 8), fmt.Sprintf("0x%08x", n); got != want {
			t.Errorf("hexString(%#x, 8) = %q, want %q", n, got, want)
		}
		if got, want := hexString(n, 16), fmt.Sprintf("0x%016x", n); got != want {
			t.Errorf("hexString(%#x, 16) = %q, want %q", n, got, want)
		}
	}
	b := []byte{0x00, 0x01, 0xab, 0xff, 0x10}
	if got, want := upperHex(b), fmt.Sprintf("%X", b); got != want {
		t.Errorf("upperHex = %q, want %q", got, want)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100; i++ {
		g := make([]byte, 16)
		rng.Read(g)
		want := fmt.Sprintf("{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
			binary.LittleEndian.Uint32(g), binary.LittleEndian.Uint16(g[4:]), binary.LittleEndian.Uint16(g[6:]),
			g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15])
		if got := GUIDString(g); got != want {
			t.Errorf("GUIDString = %q, want %q", got, want)
		}
	}
}

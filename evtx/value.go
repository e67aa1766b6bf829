package evtx

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
)

// ValueType is a Binary XML value type as stored in an EVTX record.
type ValueType uint8

// Value types of Binary XML substitutions and value text. Array types have the
// ArrayFlag bit set (for example StringType|ArrayFlag).
const (
	NullType       ValueType = 0x00
	StringType     ValueType = 0x01 // UTF-16LE
	AnsiStringType ValueType = 0x02
	Int8Type       ValueType = 0x03
	Uint8Type      ValueType = 0x04
	Int16Type      ValueType = 0x05
	Uint16Type     ValueType = 0x06
	Int32Type      ValueType = 0x07
	Uint32Type     ValueType = 0x08
	Int64Type      ValueType = 0x09
	Uint64Type     ValueType = 0x0a
	Real32Type     ValueType = 0x0b
	Real64Type     ValueType = 0x0c
	BoolType       ValueType = 0x0d
	BinaryType     ValueType = 0x0e
	GUIDType       ValueType = 0x0f
	SizeTType      ValueType = 0x10
	FileTimeType   ValueType = 0x11
	SysTimeType    ValueType = 0x12
	SIDType        ValueType = 0x13
	Hex32Type      ValueType = 0x14
	Hex64Type      ValueType = 0x15
	EvtHandleType  ValueType = 0x20
	BinXMLType     ValueType = 0x21
	EvtXMLType     ValueType = 0x23
	ArrayFlag      ValueType = 0x80
)

// Value is a typed Binary XML value. Which fields are set depends on Type:
//   - StringType, AnsiStringType: Str
//   - integer, bool, hex, size_t, FILETIME and real types: Num (reals as IEEE bits;
//     signed integers sign-extended to 64 bits; FILETIME as raw 100 ns ticks)
//   - BinaryType, GUIDType (16 bytes as stored), SIDType, SysTimeType (16 bytes): Raw
//   - BinXMLType: Elements() (the nested fragment's root elements)
//   - array types: Items() (elements have the base type)
//
// Size holds the stored size of SizeTType values (4 or 8). Values, and the
// slices they hold, are shared within a record: treat them as read-only.
type Value struct {
	Type ValueType
	Size uint8
	Num  uint64
	Str  string
	Raw  []byte
	more *compound
}

// compound holds the rarely used parts, keeping Value small.
type compound struct {
	items []Value
	elems []*Element
	used  bool // a BinXml value's elements are in a record's tree
}

// Items returns the elements of an array value.
func (v Value) Items() []Value {
	if v.more == nil {
		return nil
	}
	return v.more.items
}

// Elements returns the root elements of a nested BinXml value.
func (v Value) Elements() []*Element {
	if v.more == nil {
		return nil
	}
	return v.more.elems
}

// ArrayValue makes an array value of type base|ArrayFlag.
func ArrayValue(base ValueType, items []Value) Value {
	return Value{Type: base | ArrayFlag, more: &compound{items: items}}
}

// IsNull reports whether the value is null (absent optional substitution).
func (v Value) IsNull() bool { return v.Type == NullType }

// Uint returns the value as an unsigned integer; strings are parsed (decimal or 0x hex).
func (v Value) Uint() (uint64, bool) {
	switch v.Type {
	case Int8Type, Int16Type, Int32Type, Int64Type, Uint8Type, Uint16Type, Uint32Type, Uint64Type,
		BoolType, SizeTType, Hex32Type, Hex64Type, FileTimeType:
		return v.Num, true
	case StringType, AnsiStringType:
		s := strings.TrimSpace(v.Str)
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseUint(s[2:], 16, 64)
			return n, err == nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Time returns FILETIME and SYSTEMTIME values (and strings in python-evtx's or
// RFC 3339 form) as a UTC time.
func (v Value) Time() (time.Time, bool) {
	switch v.Type {
	case FileTimeType:
		return FileTime(v.Num), true
	case SysTimeType:
		if len(v.Raw) < 16 {
			return time.Time{}, false
		}
		u := func(i int) int { return int(binary.LittleEndian.Uint16(v.Raw[2*i:])) }
		return time.Date(u(0), time.Month(u(1)), u(3), u(4), u(5), u(6), u(7)*1e6, time.UTC), true
	case StringType, AnsiStringType:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, v.Str); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// FileTime converts a Windows FILETIME (100 ns ticks since 1601-01-01) to UTC time.
func FileTime(ft uint64) time.Time {
	const epochDiff = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	return time.Unix(int64(ft/1e7)-epochDiff, int64(ft%1e7)*100).UTC()
}

// GUIDString formats a 16-byte GUID as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (lower case).
func GUIDString(b []byte) string {
	if len(b) < 16 {
		return ""
	}
	var buf [38]byte
	return string(appendGUID(buf[:0], b))
}

const hexDigits = "0123456789abcdef"

// appendGUID appends the GUID in b (16 bytes, stored little-endian in its
// first three fields) in braces.
func appendGUID(dst, b []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, '{')
	dst = appendHex(dst, uint64(le.Uint32(b)), 8)
	dst = append(dst, '-')
	dst = appendHex(dst, uint64(le.Uint16(b[4:])), 4)
	dst = append(dst, '-')
	dst = appendHex(dst, uint64(le.Uint16(b[6:])), 4)
	dst = append(dst, '-')
	for i, c := range b[8:16] {
		if i == 2 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(dst, '}')
}

// appendHex appends n as exactly width lower-case hex digits (more if n needs them).
func appendHex(dst []byte, n uint64, width int) []byte {
	var buf [16]byte
	i := len(buf)
	for n != 0 || i > len(buf)-width {
		i--
		buf[i] = hexDigits[n&15]
		n >>= 4
		if i == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// upperHex returns b as upper-case hex digits (as %X does).
func upperHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// hexString is 0x and n in width lower-case hex digits (as %#0*x with padding).
func hexString(n uint64, width int) string {
	var buf [18]byte
	return string(appendHex(append(buf[:0], '0', 'x'), n, width))
}

// SIDString formats a binary security identifier as S-R-A-S1-S2...
func SIDString(b []byte) string {
	if len(b) < 8 {
		return ""
	}
	n := int(b[1])
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	sb.WriteByte('-')
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < n && 8+4*i+4 <= len(b); i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String()
}

func pyTime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

func pyFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	} else if math.IsInf(f, -1) {
		return "-inf"
	} else if math.IsNaN(f) {
		return "nan"
	}
	a := math.Abs(f)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes e+16 / e-05 with at least two exponent digits, as Go does.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// String renders the value as python-evtx 0.6 does in its XML output.
func (v Value) String() string {
	switch v.Type {
	case NullType:
		return ""
	case StringType, AnsiStringType:
		return v.Str
	case Int8Type, Int16Type, Int32Type, Int64Type:
		return strconv.FormatInt(int64(v.Num), 10)
	case Uint8Type, Uint16Type, Uint32Type, Uint64Type:
		return strconv.FormatUint(v.Num, 10)
	case Real32Type:
		return pyFloat(float64(math.Float32frombits(uint32(v.Num))))
	case Real64Type:
		return pyFloat(math.Float64frombits(v.Num))
	case BoolType:
		if v.Num != 0 {
			return "True"
		}
		return "False"
	case BinaryType, EvtXMLType, EvtHandleType:
		return upperHex(v.Raw)
	case GUIDType:
		return GUIDString(v.Raw)
	case SizeTType:
		if v.Size == 4 {
			return hexString(v.Num, 8)
		}
		return hexString(v.Num, 16)
	case FileTimeType, SysTimeType:
		t, _ := v.Time()
		return pyTime(t)
	case SIDType:
		return SIDString(v.Raw)
	case Hex32Type:
		return hexString(v.Num, 8)
	case Hex64Type:
		return hexString(v.Num, 16)
	case BinXMLType:
		var sb strings.Builder
		for _, e := range v.Elements() {
			e.writeXML(&sb)
		}
		return sb.String()
	}
	if v.Type&ArrayFlag != 0 {
		var sb strings.Builder
		if v.Type&^ArrayFlag == StringType {
			for _, e := range v.Items() {
				sb.WriteString("<string>")
				sb.WriteString(e.Str)
				sb.WriteString("</string>\n")
			}
			return sb.String()
		}
		for i, e := range v.Items() {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(e.String())
		}
		return sb.String()
	}
	return upperHex(v.Raw)
}

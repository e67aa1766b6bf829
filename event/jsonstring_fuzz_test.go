package event

import (
	"testing"
	"unicode/utf8"
)

// appendJSONStringRef is the plain byte-by-byte escaper AppendJSONString
// must agree with.
func appendJSONStringRef(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// FuzzAppendJSONString: the word-at-a-time escaper agrees with the plain
// one on any input, also after a prefix in the buffer.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", `C:\Windows\System32\cmd.exe /c "echo"`, "tab\there\x00\x1f", "caf\xc3\xa9 \xff\xfe", "12345678\\", "exactly8", "sixteen-bytes-ok", "seventeen-bytes-x", "\x7f\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendJSONString([]byte("x"), s)), "x"+string(appendJSONStringRef(nil, s)); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}

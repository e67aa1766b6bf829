package schema

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// ms is an oracle independent of the parser under test.
func ms(t *testing.T, layout, s string) int64 {
	t.Helper()
	tm, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	return tm.UnixMilli()
}

func mustFmt(t *testing.T, spec string) []DateFormat {
	t.Helper()
	fs, err := ParseDateFormats(spec)
	if err != nil {
		t.Fatalf("ParseDateFormats(%q): %v", spec, err)
	}
	return fs
}

func TestParseDateDefault(t *testing.T) {
	iso := time.RFC3339Nano
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		// Digits that strict_date_optional_time rejects (it needs a 4-digit
		// year) fall through to epoch_millis: ES test data relies on
		// "1" < "2" < "10" < "100".
		{"1", 1, true},
		{"2", 2, true},
		{"10", 10, true},
		{"100", 100, true},
		{"12345", 12345, true},
		{"1516116808349", 1516116808349, true},
		{"-1", -1, true},
		{"0", 0, true},
		// Four digits are a year for strict_date_optional_time.
		{"2022", ms(t, iso, "2022-01-01T00:00:00Z"), true},
		{"1000", ms(t, iso, "1000-01-01T00:00:00Z"), true},
		{"2022-05", ms(t, iso, "2022-05-01T00:00:00Z"), true},
		{"2022-05-04", ms(t, iso, "2022-05-04T00:00:00Z"), true},
		{"2022-05-04T", ms(t, iso, "2022-05-04T00:00:00Z"), true},
		{"2022-05-04T12", ms(t, iso, "2022-05-04T12:00:00Z"), true},
		{"2022-05-04T12Z", ms(t, iso, "2022-05-04T12:00:00Z"), true},
		{"2022-05-04T12:30", ms(t, iso, "2022-05-04T12:30:00Z"), true},
		{"2017-08-30T20:47:33Z", ms(t, iso, "2017-08-30T20:47:33Z"), true},
		{"2022-05-04T12:00:00.000Z", ms(t, iso, "2022-05-04T12:00:00Z"), true},
		{"2022-05-04T12:00:00.5Z", ms(t, iso, "2022-05-04T12:00:00.5Z"), true},
		{"2022-05-04T12:00:00,5Z", ms(t, iso, "2022-05-04T12:00:00.5Z"), true},
		{"2022-05-04T12:00:00.123456789Z", ms(t, iso, "2022-05-04T12:00:00.123Z"), true},
		{"2022-05-04T12:00:00.999999999", ms(t, iso, "2022-05-04T12:00:00.999Z"), true},
		{"2022-05-04T12:00:00+02:00", ms(t, iso, "2022-05-04T10:00:00Z"), true},
		{"2022-05-04T12:00:00-0530", ms(t, iso, "2022-05-04T17:30:00Z"), true},
		{"2022-05-04T12:00:00+02", ms(t, iso, "2022-05-04T10:00:00Z"), true},
		{"2022-05-04T12:00:00.25+01:00", ms(t, iso, "2022-05-04T11:00:00.25Z"), true},
		{"2022-05-04T12:00:00", ms(t, iso, "2022-05-04T12:00:00Z"), true},
		{"2022-05-04T12:00:00UTC", ms(t, iso, "2022-05-04T12:00:00Z"), true},
		{"2022-05-04T12:00:00GMT+01:00", ms(t, iso, "2022-05-04T11:00:00Z"), true},
		{"2024-02-29", ms(t, iso, "2024-02-29T00:00:00Z"), true},
		{"-0001-01-01", -62198755200000, true},
		{"0000-01-01", -62167219200000, true},
		// Rejections.
		{"", 0, false},
		{"2023-02-29", 0, false},
		{"2022-04-31", 0, false},
		{"2022-13-01", 0, false},
		{"2022-00-10", 0, false},
		{"2022-05-04T24:00:00Z", 0, false},
		{"2022-05-04T12:60:00Z", 0, false},
		{"2022-05-04T12:00:60Z", 0, false},
		{"2022-05-04T12:00:00.1234567891Z", 0, false},
		{"2022-05-04 12:00:00", 0, false},
		{"2022-5-4", 0, false},
		{"22-05-04", 0, false},
		{"2022-05-04t12:00:00z", 0, false},
		{"2022-05-04T12:00:00+19:00", 0, false},
		{"+2022", 0, false},
		{"1.5e3", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"abc", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseDate(c.in, nil)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseDate(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseDateSequenceOrdering(t *testing.T) {
	// extra.data orders its events by "@timestamp": "1", "2", "3", "10", ...
	prev := int64(-1 << 62)
	for _, s := range []string{"1", "2", "3", "10", "11", "100", "101", "102"} {
		v, ok := ParseDate(s, nil)
		if !ok || v <= prev {
			t.Fatalf("%q -> %d, %v (previous %d)", s, v, ok, prev)
		}
		prev = v
	}
}

func TestParseDateEpoch(t *testing.T) {
	cases := []struct {
		format, in string
		want       int64
		ok         bool
	}{
		{"epoch_millis", "1", 1, true},
		{"epoch_millis", "007", 7, true},
		{"epoch_millis", "1.", 1, true},
		{"epoch_millis", "1.999999", 1, true},
		{"epoch_millis", "1.9999999", 0, false},
		{"epoch_millis", "-1", -1, true},
		{"epoch_millis", "-0", 0, true},
		{"epoch_millis", "-1.5", -2, true}, // floored, like Instant.toEpochMilli
		{"epoch_millis", "-0.5", -1, true},
		{"epoch_millis", "9223372036854775807", 9223372036854775807, true},
		{"epoch_millis", "9223372036854775808", 0, false},
		{"epoch_millis", "12345678901234567890", 0, false},
		{"epoch_millis", "+1", 0, false},
		{"epoch_millis", "", 0, false},
		{"epoch_millis", "-", 0, false},
		{"epoch_millis", ".5", 0, false},
		{"epoch_millis", "1e3", 0, false},
		{"epoch_millis", "2022-01-01", 0, false},
		{"epoch_second", "1", 1000, true},
		{"epoch_second", "1516116808", 1516116808000, true},
		{"epoch_second", "1.5", 1500, true},
		{"epoch_second", "1.123456789", 1123, true},
		{"epoch_second", "1.1234567891", 0, false},
		{"epoch_second", "-1.5", -1500, true},
		{"epoch_second", "-1.0005", -1001, true},
		{"epoch_second", "9223372036854775", 9223372036854775000, true},
		{"epoch_second", "9223372036854776", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseDate(c.in, mustFmt(t, c.format))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s %q = %d, %v; want %d, %v", c.format, c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseDateFormats(t *testing.T) {
	iso := time.RFC3339Nano
	day := func(s string) int64 { return ms(t, iso, s+"T00:00:00Z") }
	cases := []struct {
		format, in string
		want       int64
		ok         bool
	}{
		// Custom java.time patterns, as in the EQL sample datasets.
		{"dd-MM-yyyy", "12-12-2022", day("2022-12-12"), true},
		{"dd-MM-yyyy", "17-12-2022", day("2022-12-17"), true},
		{"dd-MM-yyyy", "2022-12-12", 0, false},
		{"dd-MM-yyyy", "31-02-2022", 0, false}, // strict resolver
		{"dd-MM-yyyy", "1-12-2022", 0, false},  // dd is exactly two digits
		{"d-M-yyyy", "1-2-2022", day("2022-02-01"), true},
		{"yyyy-MM-dd", "2022-12-12", day("2022-12-12"), true},
		{"yyyy-MM-dd", "12-12-2022", 0, false},
		{"yyyy-MM-dd", "0000-01-01", 0, false}, // year-of-era starts at 1
		{"uuuu-MM-dd", "0000-01-01", day("0000-01-01"), true},
		{"yyyy-MM-dd", "+12022-01-01", day("2022-01-01") + 10000*365*86400000 + 2425*86400000, true},
		{"yyyy-MM-dd", "12022-01-01", 0, false}, // EXCEEDS_PAD: more than 4 digits need a '+'
		{"yyyy/MM/dd HH:mm:ss", "2022/05/04 13:14:15", ms(t, iso, "2022-05-04T13:14:15Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ss.SSS", "2022-05-04T13:14:15.123", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ss.SSS", "2022-05-04T13:14:15.12", 0, false},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2022-05-04T13:14:15.123+02:00", ms(t, iso, "2022-05-04T11:14:15.123Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2022-05-04T13:14:15.123Z", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ssZ", "2022-05-04T13:14:15+0200", ms(t, iso, "2022-05-04T11:14:15Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ssZ", "2022-05-04T13:14:15+02:00", 0, false},
		{"yyyyMMdd", "20220504", day("2022-05-04"), true}, // adjacent value parsing
		{"yyyyMMddHHmmssSSS", "20220504131415123", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"yyMMdd", "220504", day("2022-05-04"), true},
		{"dd/MM/yy", "04/05/99", day("2099-05-04"), true}, // base year 2000
		{"dd MMM yyyy", "04 May 2022", day("2022-05-04"), true},
		{"dd MMMM yyyy", "04 September 2022", day("2022-09-04"), true},
		{"dd MMM yyyy", "04 may 2022", 0, false}, // case-sensitive
		{"EEE, dd MMM yyyy HH:mm:ss", "Wed, 04 May 2022 10:00:00", ms(t, iso, "2022-05-04T10:00:00Z"), true},
		{"hh:mm a", "01:30 PM", ms(t, iso, "1970-01-01T13:30:00Z"), true},
		{"hh:mm a", "12:30 AM", ms(t, iso, "1970-01-01T00:30:00Z"), true},
		{"HH:mm", "13:30", ms(t, iso, "1970-01-01T13:30:00Z"), true},
		{"yyyy", "2022", day("2022-01-01"), true},
		{"yyyy-MM", "2022-07", day("2022-07-01"), true},
		{"MM-dd", "07-04", day("1970-07-04"), true},
		{"dd", "04", 0, false}, // nothing to build a date from
		{"yyyy-DDD", "2022-032", day("2022-02-01"), true},
		{"yyyy-DDD", "2022-366", 0, false},
		{"yyyy-MM-dd[ HH:mm]", "2022-05-04", day("2022-05-04"), true},
		{"yyyy-MM-dd[ HH:mm]", "2022-05-04 10:20", ms(t, iso, "2022-05-04T10:20:00Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ss VV", "2022-01-04T12:00:00 Europe/Paris", ms(t, iso, "2022-01-04T11:00:00Z"), true},
		{"yyyy-MM-dd'T'HH:mm:ss VV", "2022-07-04T12:00:00 Europe/Paris", ms(t, iso, "2022-07-04T10:00:00Z"), true},
		{"'date:'yyyy", "date:2022", day("2022-01-01"), true},
		{"yyyy''MM", "2022'05", day("2022-05-01"), true},
		// Built-in names.
		{"strict_date_time", "2022-05-04T13:14:15.123Z", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"strict_date_time", "2022-05-04T13:14:15Z", ms(t, iso, "2022-05-04T13:14:15Z"), true},
		{"strict_date_time", "2022-05-04T13:14:15.123", 0, false}, // zone is mandatory
		{"date_time", "2022-5-4T3:14:15.1+01:00", ms(t, iso, "2022-05-04T02:14:15.1Z"), true},
		{"strict_date_time_no_millis", "2022-05-04T13:14:15+01:00", ms(t, iso, "2022-05-04T12:14:15Z"), true},
		{"strict_date_time_no_millis", "2022-05-04T13:14:15.1Z", 0, false},
		{"basic_date", "20220504", day("2022-05-04"), true},
		{"basic_date", "2022-05-04", 0, false},
		{"basic_date_time", "20220504T131415.123Z", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"basic_date_time_no_millis", "20220504T131415+0100", ms(t, iso, "2022-05-04T12:14:15Z"), true},
		{"basic_ordinal_date", "2022032", day("2022-02-01"), true},
		{"strict_date", "2022-05-04", day("2022-05-04"), true},
		{"strict_date", "2022-02-30", day("2022-03-02"), true}, // ISO_LOCAL_DATE with a lenient resolver
		{"date", "2022-5-4", day("2022-05-04"), true},
		{"date", "1", day("0001-01-01"), true},
		{"date_optional_time", "1", day("0001-01-01"), true}, // unlike strict_date_optional_time
		{"date_optional_time", "2022-5-4T1:2:3.5Z", ms(t, iso, "2022-05-04T01:02:03.5Z"), true},
		{"strict_date_hour_minute_second", "2022-05-04T13:14:15", ms(t, iso, "2022-05-04T13:14:15Z"), true},
		{"strict_date_hour_minute_second", "2022-02-30T13:14:15", ms(t, iso, "2022-02-28T13:14:15Z"), true}, // SMART fallback
		{"strict_date_hour_minute_second_millis", "2022-05-04T13:14:15.1", ms(t, iso, "2022-05-04T13:14:15.1Z"), true},
		{"strict_date_hour_minute", "2022-05-04T13:14", ms(t, iso, "2022-05-04T13:14:00Z"), true},
		{"strict_year_month_day", "2022-05-04", day("2022-05-04"), true},
		{"strict_year_month", "2022-05", day("2022-05-01"), true},
		{"strict_year", "2022", day("2022-01-01"), true},
		{"strict_year", "22", 0, false},
		{"strict_hour_minute_second", "13:14:15", ms(t, iso, "1970-01-01T13:14:15Z"), true},
		{"strict_time", "13:14:15.5Z", ms(t, iso, "1970-01-01T13:14:15.5Z"), true},
		{"strict_ordinal_date", "2022-032", day("2022-02-01"), true},
		{"strict_date_optional_time_nanos", "2022-05-04T13:14:15.123456789Z", ms(t, iso, "2022-05-04T13:14:15.123Z"), true},
		{"strict_date_optional_time_nanos", "2022-05-04T13:14Z", 0, false},
		{"iso8601", "2022-05-04T13:14:15Z", ms(t, iso, "2022-05-04T13:14:15Z"), true},
		// Multiple formats are tried in order.
		{"yyyy-MM-dd||epoch_millis", "1000", 1000, true},
		{"epoch_second||strict_date_optional_time", "2022", 2022000, true},
		{"strict_date_optional_time||epoch_second", "2022", day("2022-01-01"), true},
		{" yyyy-MM-dd || dd-MM-yyyy ", "04-05-2022", day("2022-05-04"), true},
	}
	for _, c := range cases {
		got, ok := ParseDate(c.in, mustFmt(t, c.format))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%q %q = %d (%s), %v; want %d (%s), %v", c.format, c.in,
				got, FormatDateISO(got), ok, c.want, FormatDateISO(c.want), c.ok)
		}
	}
}

func TestParseDateFormatsErrors(t *testing.T) {
	bad := []string{
		"", "||", "yyyy||", "yyyy-MM-dd'T", "yyyy]", "yyyy{", "ddd", "HHH", "SSSSSSSSSS",
		"YYYY-ww", "yyyy-MM-dd G", "zzz", "yyyy-MM-dd'T'HH:mm:ss.SSSZZZZ", "qqq", "ppHH", "aa",
		"strict_week_date", "weekyear_week_day",
	}
	for _, spec := range bad {
		if fs, err := ParseDateFormats(spec); err == nil {
			t.Errorf("ParseDateFormats(%q) = %v, want an error", spec, fs)
		}
	}
	// An unterminated optional section is closed at the end, as in java.time.
	good := []string{"yyyy-MM-dd[ HH:mm", "'quoted''s'", "strict_date_optional_time||epoch_millis"}
	for _, spec := range good {
		if _, err := ParseDateFormats(spec); err != nil {
			t.Errorf("ParseDateFormats(%q): %v", spec, err)
		}
	}
}

func TestFormatDateISO(t *testing.T) {
	cases := []struct {
		in   int64
		want string
	}{
		{0, "1970-01-01T00:00:00.000Z"},
		{1, "1970-01-01T00:00:00.001Z"},
		{-1, "1969-12-31T23:59:59.999Z"},
		{1516116808349, "2018-01-16T15:33:28.349Z"},
		{-62167219200000, "0000-01-01T00:00:00.000Z"},
		{-62198755200000, "-0001-01-01T00:00:00.000Z"},
		{253402300800000, "+10000-01-01T00:00:00.000Z"},
	}
	for _, c := range cases {
		if got := FormatDateISO(c.in); got != c.want {
			t.Errorf("FormatDateISO(%d) = %q, want %q", c.in, got, c.want)
		}
	}
	// Extremes must not panic and must render a year.
	for _, v := range []int64{1<<63 - 1, -1 << 63} {
		if s := FormatDateISO(v); !strings.HasSuffix(s, "Z") {
			t.Errorf("FormatDateISO(%d) = %q", v, s)
		}
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 999, 1516116808349, -62135596800000, 253402300799999, 951782400000, -2208988800001} {
		s := FormatDateISO(v)
		got, ok := ParseDate(s, nil)
		if !ok || got != v {
			t.Errorf("round trip %d -> %q -> %d, %v", v, s, got, ok)
		}
	}
}

func TestCivilDays(t *testing.T) {
	// Cross-check the calendar arithmetic against the time package.
	for d := int64(-800000); d <= 800000; d += 97 {
		y, m, dd := civilFromDays(d)
		want := time.Unix(d*86400, 0).UTC()
		if int(y) != want.Year() || int(m) != int(want.Month()) || int(dd) != want.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", d, y, m, dd, want)
		}
		if back := daysFromCivil(y, m, dd); back != d {
			t.Fatalf("daysFromCivil(%d-%d-%d) = %d, want %d", y, m, dd, back, d)
		}
	}
}

func TestDefaultDateFormats(t *testing.T) {
	fs := DefaultDateFormats()
	if len(fs) != 2 || fs[0].String() != "strict_date_optional_time" || fs[1].String() != "epoch_millis" {
		t.Fatalf("DefaultDateFormats() = %v", fs)
	}
	fs[0] = DateFormat{} // a copy: the package default must be unaffected
	if _, ok := ParseDate("2022-01-01", nil); !ok {
		t.Fatal("default formats were modified through DefaultDateFormats")
	}
}

// The fast path for the shippers' form gives what the default formats
// give, and declines (leaving it to them) what it does not handle.
func TestParseISOFast(t *testing.T) {
	cases := []string{
		"2026-01-01T00:00:00Z", "2026-01-01T00:00:00.008Z", "2024-02-29T23:59:59.999999999Z",
		"1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.1Z", "2026-11-29T03:16:51.5Z",
		"2000-02-29T12:00:00.12Z", "1900-03-01T00:00:00Z",
		// declined: the general parser decides
		"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z",
		"2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "2026-01-01T00:00:00+01:00",
		"2026-01-01 00:00:00Z", "2026-01-01T00:00:00", "+2026-01-01T00:00:00Z", "2026-1-01T00:00:00.000Z",
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		ms := rnd.Int64N(4102444800000) - 2208988800000 // 1900 to 2100
		s := FormatDateISO(ms)
		cases = append(cases, s, strings.Replace(s, ".", ".0", 1)+"", strings.TrimSuffix(s, "Z")[:19]+"Z")
	}
	fast := 0
	for _, s := range cases {
		got, ok := parseISOFast(s)
		want, wok := parseWith(s, defaultFormats)
		if ok {
			fast++
			if !wok || got != want {
				t.Errorf("%q: fast %d, default formats %d %v", s, got, want, wok)
			}
		}
	}
	if fast < 4000 {
		t.Errorf("the fast path took only %d of %d cases", fast, len(cases))
	}
	for _, s := range []string{"2023-02-29T00:00:00Z", "2026-01-01T00:00:00+01:00", "2026-01-01T24:00:00Z"} {
		if _, ok := parseISOFast(s); ok {
			t.Errorf("%q: taken by the fast path", s)
		}
	}
}

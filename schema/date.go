package schema

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Default "format" of date and date_nanos fields in Elasticsearch.
const (
	defaultDateFormat      = "strict_date_optional_time||epoch_millis"
	defaultDateNanosFormat = "strict_date_optional_time_nanos||epoch_millis"
)

// DateFormat is one compiled element of a date field's "format": an
// Elasticsearch built-in name (strict_date_optional_time, epoch_millis, ...)
// or a Java DateTimeFormatter pattern (dd-MM-yyyy, ...).
type DateFormat struct {
	name string
	kind dfKind
	alts []dalt // parsers tried in order (pattern kind)
}

type dfKind uint8

const (
	dfPattern dfKind = iota
	dfEpochMillis
	dfEpochSecond
)

// String returns the format as written in the mapping.
func (f DateFormat) String() string { return f.name }

var defaultFormats = mustFormats(defaultDateFormat)

func mustFormats(spec string) []DateFormat {
	fs, err := ParseDateFormats(spec)
	if err != nil {
		panic(err)
	}
	return fs
}

// DefaultDateFormats returns the formats of a date field without "format":
// strict_date_optional_time||epoch_millis.
func DefaultDateFormats() []DateFormat {
	return append([]DateFormat(nil), defaultFormats...)
}

// ParseDateFormats compiles a "format" value: formats separated by "||",
// tried in order. Like Elasticsearch, an empty element is an error and each
// element is trimmed.
func ParseDateFormats(spec string) ([]DateFormat, error) {
	if spec == "" {
		return nil, fmt.Errorf("no date pattern provided")
	}
	var out []DateFormat
	for _, part := range strings.Split(spec, "||") {
		if part == "" {
			return nil, fmt.Errorf("cannot have empty element in multi date format pattern [%s]", spec)
		}
		f, err := ParseDateFormat(part)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseDateFormat compiles a single format (no "||").
func ParseDateFormat(name string) (DateFormat, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return DateFormat{}, fmt.Errorf("no date pattern provided")
	}
	switch name {
	case "epoch_millis":
		return DateFormat{name: name, kind: dfEpochMillis}, nil
	case "epoch_second":
		return DateFormat{name: name, kind: dfEpochSecond}, nil
	}
	if alts, ok := builtinFormats()[name]; ok {
		return DateFormat{name: name, alts: alts}, nil
	}
	if isWeekFormat(name) {
		return DateFormat{}, fmt.Errorf("unsupported date format [%s]: week-based formats are not supported", name)
	}
	elems, err := compilePattern(name)
	if err != nil {
		return DateFormat{}, fmt.Errorf("invalid format: [%s]: %v", name, err)
	}
	return DateFormat{name: name, alts: []dalt{{elems: elems}}}, nil
}

// ParseDate parses s with formats (the field's Formats; nil means the
// default) into epoch milliseconds, the way Elasticsearch indexes a date
// field: the first format that parses wins, missing fields default
// (month/day to 1, time to midnight, zone to UTC), and instants are floored
// to the millisecond. A JSON number is parsed through its literal text, as
// Elasticsearch does.
//
// With the default formats a string of digits is epoch millis unless it has
// exactly four digits: strict_date_optional_time needs a 4-digit year, so
// "1", "10" and "100" are millis but "2022" is the year 2022.
func ParseDate(s string, formats []DateFormat) (epochMillis int64, ok bool) {
	if len(formats) == 0 {
		if ms, ok := parseISOFast(s); ok {
			return ms, true
		}
		formats = defaultFormats
	}
	return parseWith(s, formats)
}

func parseWith(s string, formats []DateFormat) (int64, bool) {
	for i := range formats {
		if ms, ok := formats[i].parse(s); ok {
			return ms, true
		}
	}
	return 0, false
}

// parseISOFast reads the form shippers write, yyyy-MM-ddTHH:mm:ss, an
// optional fraction of 1 to 9 digits and Z, as the default formats do (10x
// faster: every event's timestamp goes through it); false for anything
// else, which the general parser then decides.
func parseISOFast(s string) (int64, bool) {
	n := len(s)
	if n < 20 || s[n-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(i, k int) (int64, bool) {
		var v int64
		for _, c := range []byte(s[i : i+k]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	var ms int64
	if n > 20 {
		frac := s[20 : n-1]
		if s[19] != '.' || len(frac) < 1 || len(frac) > 9 {
			return 0, false
		}
		f, ok := num(20, len(frac))
		if !ok {
			return 0, false
		}
		for k := len(frac); k < 9; k++ {
			f *= 10
		}
		ms = f / 1_000_000 // floored to the millisecond, as indexed
	}
	return (daysFromCivil(y, mo, d)*86400+h*3600+mi*60+sec)*1000 + ms, true
}

func (f *DateFormat) parse(s string) (int64, bool) {
	switch f.kind {
	case dfEpochMillis:
		return parseEpoch(s, false)
	case dfEpochSecond:
		return parseEpoch(s, true)
	}
	if s == "" {
		return 0, false
	}
	for _, alt := range f.alts {
		var st dstate
		end, ok := parseSeq(alt.elems, s, 0, &st)
		if !ok || end != len(s) {
			continue
		}
		if ms, ok := st.resolve(alt.style); ok {
			return ms, true
		}
	}
	return 0, false
}

// FormatDateISO renders epoch millis the way Elasticsearch prints a date
// field by default: "1970-01-01T00:00:00.000Z". Years beyond 9999 get a '+'
// sign and negative years a '-', as java.time does.
func FormatDateISO(ms int64) string {
	days := floorDiv(ms, 86_400_000)
	rem := ms - days*86_400_000
	y, m, d := civilFromDays(days)
	var b strings.Builder
	switch {
	case y > 9999:
		fmt.Fprintf(&b, "+%d", y)
	case y < 0:
		fmt.Fprintf(&b, "-%04d", -y)
	default:
		fmt.Fprintf(&b, "%04d", y)
	}
	fmt.Fprintf(&b, "-%02d-%02dT%02d:%02d:%02d.%03dZ", m, d,
		rem/3_600_000, rem/60_000%60, rem/1000%60, rem%1000)
	return b.String()
}

// parseEpoch implements epoch_millis (seconds=false) and epoch_second: an
// optional '-', 1-19 digits, and an optional '.' with up to 6 (millis) or 9
// (seconds) fraction digits. Negative values are supported since ES 8.2
// (elastic/elasticsearch#80208); fractions are floored to the millisecond
// like Instant.toEpochMilli.
func parseEpoch(s string, seconds bool) (int64, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 || i > 19 {
		return 0, false
	}
	whole, ok := atoi64(s[:i])
	if !ok {
		return 0, false
	}
	fracDigits := 6
	if seconds {
		fracDigits = 9
	}
	var frac int64 // in units of 10^-fracDigits
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		f := s[i+1:]
		if len(f) > fracDigits {
			return 0, false
		}
		for j := 0; j < len(f); j++ {
			if !isDigit(f[j]) {
				return 0, false
			}
			frac = frac*10 + int64(f[j]-'0')
		}
		for j := len(f); j < fracDigits; j++ {
			frac *= 10
		}
	}
	// ms = whole*unit + frac/scale, floored towards negative infinity.
	unit, scale := int64(1), int64(1_000_000) // millis: frac is nanos of milli
	if seconds {
		// Elasticsearch's conversion to millis (Instant.toEpochMilli) fails
		// on overflow, and the document with it.
		if whole > (1<<63-1)/1000 {
			return 0, false
		}
		unit = 1000
	}
	ms := whole * unit
	if ms > 1<<63-1-frac/scale {
		return 0, false
	}
	ms += frac / scale
	if neg {
		ms = -ms
		if frac%scale != 0 {
			ms--
		}
	}
	return ms, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi64 parses ASCII digits; false on overflow.
func atoi64(s string) (int64, bool) {
	var v int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if v > (1<<63-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm), valid for the whole java.time year range.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func monthDays(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// zoneCache keeps loaded time zones; only successful loads are kept, so the
// cache is bounded by the tz database.
var zoneCache sync.Map

func loadZone(name string) (*time.Location, bool) {
	if v, ok := zoneCache.Load(name); ok {
		return v.(*time.Location), true
	}
	// "Local" and "" mean something else to Go; java.time knows neither.
	if name == "Local" || name == "" || len(name) > 64 || strings.Contains(name, "..") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zoneCache.Store(name, loc)
	return loc, true
}

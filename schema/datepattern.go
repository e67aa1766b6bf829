package schema

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// This file is a small re-implementation of the parsing half of
// java.time.format.DateTimeFormatterBuilder in strict mode, which is what
// Elasticsearch date formats are made of, plus Elasticsearch's rules for
// turning the parsed fields into an instant (DateFormatters.from).

// dfield is a parsed date-time field.
type dfield uint8

const (
	fYear          dfield = iota // proleptic year ('u')
	fYearOfEra                   // 'y'
	fMonth                       // 'M'
	fDay                         // 'd'
	fDayOfYear                   // 'D'
	fHour                        // 'H'
	fClockHourAmPm               // 'h' 1-12
	fHourAmPm                    // 'K' 0-11
	fClockHourDay                // 'k' 1-24
	fMinute                      // 'm'
	fSecond                      // 's'
	fNano                        // fraction of second, in nanoseconds
	fAmPm                        // 'a'
	fDayOfWeek                   // 'E'
	fOffset                      // zone offset in seconds
	nFields
)

var fieldRange = [nFields][2]int64{
	fYear: {-999_999_999, 999_999_999}, fYearOfEra: {1, 999_999_999}, fMonth: {1, 12},
	fDay: {1, 31}, fDayOfYear: {1, 366}, fHour: {0, 23}, fClockHourAmPm: {1, 12},
	fHourAmPm: {0, 11}, fClockHourDay: {1, 24}, fMinute: {0, 59}, fSecond: {0, 59},
	fNano: {0, 999_999_999}, fAmPm: {0, 1}, fDayOfWeek: {1, 7}, fOffset: {-64800, 64800},
}

// signStyle is java.time's SignStyle, as applied by a strict parser.
type signStyle uint8

const (
	ssNormal      signStyle = iota // '-' accepted, '+' rejected
	ssNotNegative                  // no sign
	ssExceedsPad                   // '+' only when wider than the minimum, '-' always
)

type ekind uint8

const (
	eValue   ekind = iota // numeric field
	eReduced              // two-digit year, base 2000
	eLit                  // literal text
	eFrac                 // fraction of second
	eOpt                  // optional section
	eOffset               // appendOffset(pattern, noOffsetText)
	eZone                 // appendZoneOrOffsetId / appendZoneId
	eText                 // month / day-of-week / am-pm names
	eISOZone              // the zone forms the ISO built-ins accept in practice
)

// Offset part presence for eOffset.
const (
	partNone = iota
	partOptional
	partMandatory
)

type delem struct {
	kind     ekind
	field    dfield
	min, max int
	sub      int // widths of the fixed-width values that follow (adjacent value parsing)
	sign     signStyle
	lit      string
	point    bool    // eFrac: a '.' comes first
	opt      []delem // eOpt
	mins     uint8   // eOffset minutes presence
	secs     uint8   // eOffset seconds presence
	colon    bool    // eOffset
	noOff    string  // eOffset text meaning +00:00
	names    []string
	nameBase int64 // value of names[0]
}

// resolveStyle is java.time's ResolverStyle for the date part.
type resolveStyle uint8

const (
	rsStrict  resolveStyle = iota // invalid dates fail
	rsSmart                       // day-of-month clamped to the month's length (ofPattern's default)
	rsLenient                     // out-of-range month/day roll over (strict_date)
)

type dalt struct {
	elems []delem
	style resolveStyle
}

// dstate holds parsed fields.
type dstate struct {
	set uint16
	v   [nFields]int64
	loc *time.Location
}

func (st *dstate) has(f dfield) bool { return st.set&(1<<f) != 0 }

// put records a field; parsing the same field twice with different values
// is a conflict, as in java.time.
func (st *dstate) put(f dfield, v int64) bool {
	if st.has(f) {
		return st.v[f] == v
	}
	st.set |= 1 << f
	st.v[f] = v
	return true
}

func parseSeq(elems []delem, s string, pos int, st *dstate) (int, bool) {
	for i := range elems {
		e := &elems[i]
		if e.kind == eOpt {
			saved := *st
			if np, ok := parseSeq(e.opt, s, pos, st); ok {
				pos = np
			} else {
				*st = saved
			}
			continue
		}
		np, ok := parseElem(e, s, pos, st)
		if !ok {
			return pos, false
		}
		pos = np
	}
	return pos, true
}

func parseElem(e *delem, s string, pos int, st *dstate) (int, bool) {
	switch e.kind {
	case eLit:
		if !strings.HasPrefix(s[pos:], e.lit) {
			return pos, false
		}
		return pos + len(e.lit), true
	case eValue:
		return parseValue(e, s, pos, st)
	case eReduced:
		if pos+2 > len(s) || !isDigit(s[pos]) || !isDigit(s[pos+1]) {
			return pos, false
		}
		return pos + 2, st.put(e.field, 2000+int64(s[pos]-'0')*10+int64(s[pos+1]-'0'))
	case eFrac:
		return parseFraction(e, s, pos, st)
	case eText:
		best := -1
		for i, n := range e.names {
			if strings.HasPrefix(s[pos:], n) && (best < 0 || len(n) > len(e.names[best])) {
				best = i
			}
		}
		if best < 0 {
			return pos, false
		}
		return pos + len(e.names[best]), st.put(e.field, e.nameBase+int64(best))
	case eOffset:
		end, off, ok := parseOffset(e, s, pos)
		if !ok {
			return pos, false
		}
		return end, st.put(fOffset, off)
	case eZone, eISOZone:
		return parseZone(s, pos, st, e.kind == eISOZone)
	}
	return pos, false
}

// parseValue is NumberPrinterParser.parse in strict mode, including the
// two-pass adjacent value parsing that lets "yyyyMMdd" split its digits.
func parseValue(e *delem, s string, pos int, st *dstate) (int, bool) {
	neg, plus := false, false
	if pos < len(s) && (s[pos] == '+' || s[pos] == '-') {
		switch {
		case e.sign == ssExceedsPad, e.sign == ssNormal && s[pos] == '-':
		default:
			return pos, false
		}
		neg, plus = s[pos] == '-', s[pos] == '+'
		pos++
	}
	n := 0
	for n < e.max+e.sub && pos+n < len(s) && isDigit(s[pos+n]) {
		n++
	}
	if e.sub > 0 {
		n = min(n, max(e.min, n-e.sub))
	}
	if n < e.min || n > 18 {
		return pos, false
	}
	if e.sign == ssExceedsPad && ((plus && n <= e.min) || (!plus && !neg && n > e.min)) {
		return pos, false
	}
	v, _ := atoi64(s[pos : pos+n])
	if neg {
		if v == 0 {
			return pos, false // strict parsing rejects "-0"
		}
		v = -v
	}
	return pos + n, st.put(e.field, v)
}

func parseFraction(e *delem, s string, pos int, st *dstate) (int, bool) {
	if e.point {
		if pos >= len(s) || s[pos] != '.' {
			return pos, e.min == 0
		}
		pos++
	}
	n := 0
	for n < e.max && pos+n < len(s) && isDigit(s[pos+n]) {
		n++
	}
	if n < e.min {
		return pos, false
	}
	if n == 0 {
		return pos, true
	}
	v, _ := atoi64(s[pos : pos+n])
	for i := n; i < 9; i++ {
		v *= 10
	}
	return pos + n, st.put(fNano, v)
}

// two parses exactly two digits.
func two(s string, pos int) (int64, bool) {
	if pos+2 > len(s) || !isDigit(s[pos]) || !isDigit(s[pos+1]) {
		return 0, false
	}
	return int64(s[pos]-'0')*10 + int64(s[pos+1]-'0'), true
}

// parseOffset is OffsetIdPrinterParser.parse in strict mode.
func parseOffset(e *delem, s string, pos int) (int, int64, bool) {
	if pos >= len(s) {
		return pos, 0, false
	}
	if e.noOff != "" && strings.HasPrefix(s[pos:], e.noOff) {
		return pos + len(e.noOff), 0, true
	}
	if s[pos] != '+' && s[pos] != '-' {
		return pos, 0, false
	}
	sign := int64(1)
	if s[pos] == '-' {
		sign = -1
	}
	p := pos + 1
	h, ok := two(s, p)
	if !ok {
		return pos, 0, false
	}
	p += 2
	var m, sec int64
	part := func(presence uint8) (int64, bool) { // false only when mandatory and missing
		if presence == partNone {
			return 0, true
		}
		q := p
		if e.colon {
			if q >= len(s) || s[q] != ':' {
				return 0, presence != partMandatory
			}
			q++
		}
		v, ok := two(s, q)
		if !ok {
			return 0, presence != partMandatory
		}
		p = q + 2
		return v, true
	}
	if m, ok = part(e.mins); !ok {
		return pos, 0, false
	}
	if p > pos+3 || e.mins == partNone { // seconds only after minutes
		if sec, ok = part(e.secs); !ok {
			return pos, 0, false
		}
	}
	if h > 23 || m > 59 || sec > 59 {
		return pos, 0, false
	}
	return p, sign * (h*3600 + m*60 + sec), true
}

// parseISOOffset reads [+-]HH, [+-]HHMM, [+-]HH:MM, [+-]HHMMSS or
// [+-]HH:MM:SS with consistent colons: the union of what Elasticsearch's
// ISO-8601 parser and its java.time fallback accept.
func parseISOOffset(s string, pos int) (int, int64, bool) {
	if pos >= len(s) || (s[pos] != '+' && s[pos] != '-') {
		return pos, 0, false
	}
	sign := int64(1)
	if s[pos] == '-' {
		sign = -1
	}
	p := pos + 1
	h, ok := two(s, p)
	if !ok {
		return pos, 0, false
	}
	p += 2
	var m, sec int64
	if p < len(s) {
		colon := s[p] == ':'
		q := p
		if colon {
			q++
		}
		if v, ok := two(s, q); ok {
			m, p = v, q+2
			q = p
			if colon {
				if q < len(s) && s[q] == ':' {
					q++
				} else {
					q = -1
				}
			}
			if q >= 0 {
				if v, ok := two(s, q); ok {
					sec, p = v, q+2
				}
			}
		}
	}
	if h > 18 || m > 59 || sec > 59 {
		return pos, 0, false
	}
	return p, sign * (h*3600 + m*60 + sec), true
}

// parseZone is ZoneIdPrinterParser: an offset, Z, UTC/GMT/UT with an
// optional offset, or a tz database region id.
func parseZone(s string, pos int, st *dstate, iso bool) (int, bool) {
	if pos >= len(s) {
		return pos, false
	}
	setOff := func(end int, off int64) (int, bool) {
		if st.loc != nil {
			return pos, false
		}
		return end, st.put(fOffset, off)
	}
	if c := s[pos]; c == '+' || c == '-' {
		end, off, ok := parseISOOffset(s, pos)
		if !ok {
			return pos, false
		}
		if !iso && (end < pos+6 || s[pos+3] != ':') {
			return pos, false // java.time's zone-id path wants +HH:MM[:ss]
		}
		return setOff(end, off)
	}
	for _, pre := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(s[pos:], pre) {
			p := pos + len(pre)
			if p < len(s) && (s[p] == '+' || s[p] == '-') {
				if end, off, ok := parseISOOffset(s, p); ok && (end == p+3 || s[p+3] == ':') {
					return setOff(end, off)
				}
			}
			return setOff(p, 0)
		}
	}
	// Fast path for the common "Z", which is no region id.
	if s[pos] == 'Z' && (pos+1 == len(s) || !isZoneChar(s[pos+1], false)) {
		return setOff(pos+1, 0)
	}
	end := pos
	for end < len(s) && isZoneChar(s[end], end == pos) {
		end++
	}
	if end > pos {
		if loc, ok := loadZone(s[pos:end]); ok {
			if st.has(fOffset) || (st.loc != nil && st.loc != loc) {
				return pos, false
			}
			st.loc = loc
			return end, true
		}
	}
	if s[pos] == 'Z' {
		return setOff(pos+1, 0)
	}
	return pos, false
}

func isZoneChar(c byte, first bool) bool {
	if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		return true
	}
	return !first && (isDigit(c) || strings.IndexByte("~/._+-", c) >= 0)
}

// resolve turns parsed fields into epoch millis following
// java.time's strict resolution of time fields and Elasticsearch's
// DateFormatters.from for the date and the defaults.
func (st *dstate) resolve(style resolveStyle) (int64, bool) {
	for f := dfield(0); f < nFields; f++ {
		if !st.has(f) {
			continue
		}
		if style == rsLenient && (f == fMonth || f == fDay) {
			continue
		}
		if v := st.v[f]; v < fieldRange[f][0] || v > fieldRange[f][1] {
			return 0, false
		}
	}
	if st.has(fClockHourDay) {
		h := st.v[fClockHourDay] % 24
		if !st.put(fHour, h) {
			return 0, false
		}
	}
	if st.has(fClockHourAmPm) {
		if !st.put(fHourAmPm, st.v[fClockHourAmPm]%12) {
			return 0, false
		}
	}
	if st.has(fAmPm) && st.has(fHourAmPm) {
		if !st.put(fHour, st.v[fAmPm]*12+st.v[fHourAmPm]) {
			return 0, false
		}
	}

	// Time: hour, then minute, second and nano may each default to zero,
	// but not with a gap (hour and second without minute stays unresolved).
	timeSet := false
	var secOfDay, nano int64
	if st.has(fHour) {
		moh, som, nos := st.has(fMinute), st.has(fSecond), st.has(fNano)
		if !((!moh && (som || nos)) || (moh && !som && nos)) {
			timeSet = true
			secOfDay = st.v[fHour]*3600 + st.v[fMinute]*60 + st.v[fSecond]
			nano = st.v[fNano]
		}
	}

	yearSet := st.has(fYear) || st.has(fYearOfEra)
	year := int64(1970)
	if st.has(fYear) {
		year = st.v[fYear]
	} else if st.has(fYearOfEra) {
		year = st.v[fYearOfEra]
	}
	month, day := st.v[fMonth], st.v[fDay]
	var days int64
	ok := true
	switch {
	case yearSet && st.has(fMonth) && st.has(fDay):
		days, ok = dateDays(year, month, day, style)
	case yearSet && st.has(fDayOfYear):
		doy := st.v[fDayOfYear]
		if doy == 366 && !isLeap(year) {
			return 0, false
		}
		days = daysFromCivil(year, 1, 1) + doy - 1
	case timeSet || !yearSet:
		// getLocalDate: a month gives (year or 1970)-month-(day or 1);
		// anything less is 1970-01-01 (even with a year).
		switch {
		case st.has(fMonth):
			if !st.has(fDay) {
				day = 1
			}
			days, ok = dateDays(year, month, day, rsStrict)
		case timeSet:
			days = 0
		default:
			return 0, false // nothing to build a date from
		}
	default: // a year without a full date and without a time
		if !st.has(fMonth) {
			month = 1
		}
		days = daysFromCivil(year, month, 1)
	}
	if !ok {
		return 0, false
	}

	var secs int64
	switch {
	case st.loc != nil:
		y, m, d := civilFromDays(days)
		if y < -1_000_000 || y > 1_000_000 {
			return 0, false
		}
		t := time.Date(int(y), time.Month(m), int(d), 0, 0, int(secOfDay), 0, st.loc)
		secs = t.Unix()
	default:
		secs = days*86400 + secOfDay - st.v[fOffset]
	}
	// Instant.toEpochMilli: seconds*1000 + nanos/1e6, failing on overflow.
	const maxSecs = (1<<63 - 1 - 999) / 1000
	if secs > maxSecs || secs < -maxSecs {
		return 0, false
	}
	return secs*1000 + nano/1_000_000, true
}

// dateDays validates year-month-day under a resolver style.
func dateDays(y, m, d int64, style resolveStyle) (int64, bool) {
	switch style {
	case rsLenient:
		// LocalDate.of(y,1,1).plusMonths(m-1).plusDays(d-1)
		y += floorDiv(m-1, 12)
		m = (m-1)%12 + 1
		if m <= 0 {
			m += 12
		}
		return daysFromCivil(y, m, 1) + d - 1, true
	case rsSmart:
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return 0, false
		}
		d = min(d, monthDays(y, m))
	default:
		if m < 1 || m > 12 || d < 1 || d > monthDays(y, m) {
			return 0, false
		}
	}
	return daysFromCivil(y, m, d), true
}

// --- building formats ---

func val(f dfield, lo, hi int, s signStyle) delem {
	return delem{kind: eValue, field: f, min: lo, max: hi, sign: s}
}
func fixed(f dfield, w int) delem   { return val(f, w, w, ssNotNegative) }
func lit(s string) delem            { return delem{kind: eLit, lit: s} }
func opt(es ...delem) delem         { return delem{kind: eOpt, opt: linkAdjacent(es)} }
func frac(lo, hi int, p bool) delem { return delem{kind: eFrac, min: lo, max: hi, point: p} }
func seq(es ...delem) []delem       { return linkAdjacent(es) }
func isoZone() delem                { return delem{kind: eISOZone} }
func alt(es ...delem) dalt          { return dalt{elems: seq(es...)} }
func altStyle(st resolveStyle, es ...delem) dalt {
	return dalt{elems: seq(es...), style: st}
}

// offsetElem compiles an appendOffset pattern such as "+HH:MM" or "+HHmm":
// upper case parts are mandatory, lower case optional.
func offsetElem(pattern, noOff string) delem {
	e := delem{kind: eOffset, noOff: noOff, colon: strings.Contains(pattern, ":")}
	rest := strings.ReplaceAll(pattern[3:], ":", "")
	switch {
	case strings.HasPrefix(rest, "MM"):
		e.mins = partMandatory
	case strings.HasPrefix(rest, "mm"):
		e.mins = partOptional
	}
	if len(rest) >= 4 {
		if rest[2:4] == "SS" {
			e.secs = partMandatory
		} else {
			e.secs = partOptional
		}
	}
	return e
}

// linkAdjacent sets, on each numeric element that starts a run, the total
// width of the fixed-width numeric elements right after it, as java.time's
// builder does when a fixed-width value is appended after another value.
func linkAdjacent(es []delem) []delem {
	for i := 0; i < len(es); i++ {
		if es[i].kind != eValue && es[i].kind != eReduced {
			continue
		}
		sub, j := 0, i+1
		for ; j < len(es) && isFixedWidth(&es[j]); j++ {
			sub += es[j].max
		}
		if sub > 0 && es[i].kind == eValue {
			es[i].sub = sub
		}
		i = j - 1
	}
	return es
}

func isFixedWidth(e *delem) bool {
	switch e.kind {
	case eValue:
		return e.min == e.max && e.sign == ssNotNegative
	case eReduced:
		return true
	case eFrac:
		return !e.point && e.min == e.max
	}
	return false
}

var (
	builtinOnce sync.Once
	builtins    map[string][]dalt
)

// builtinFormats are Elasticsearch's named formats (DateFormatters), minus
// the week-based ones. Where Elasticsearch tries an ISO fast path and then a
// java.time parser, one element list here accepts their union.
func builtinFormats() map[string][]dalt {
	builtinOnce.Do(func() {
		ep := ssExceedsPad
		strictYMD := func() []delem {
			return []delem{val(fYear, 4, 4, ep), opt(lit("-"), fixed(fMonth, 2), opt(lit("-"), fixed(fDay, 2)))}
		}
		strictHMS := func() []delem {
			return []delem{fixed(fHour, 2), lit(":"), fixed(fMinute, 2), lit(":"), fixed(fSecond, 2)}
		}
		// DATE_FORMATTER of the lenient formats.
		lenientDate := func() []delem {
			return []delem{val(fYear, 1, 9, ssNormal), opt(lit("-"), val(fMonth, 1, 2, ssNotNegative), opt(lit("-"), val(fDay, 1, 2, ssNotNegative)))}
		}
		h12 := func(f dfield) delem { return val(f, 1, 2, ssNotNegative) }
		lenientHMS := func() []delem {
			return []delem{h12(fHour), lit(":"), h12(fMinute), lit(":"), h12(fSecond)}
		}
		cat := func(parts ...any) []delem {
			var out []delem
			for _, p := range parts {
				switch p := p.(type) {
				case delem:
					out = append(out, p)
				case []delem:
					out = append(out, p...)
				}
			}
			return out
		}
		a := func(parts ...any) dalt { return alt(cat(parts...)...) }
		smart := func(parts ...any) dalt { return altStyle(rsSmart, cat(parts...)...) }
		patYMD := func() []delem { // uuuu-MM-dd of ofPattern
			return []delem{val(fYear, 4, 19, ep), lit("-"), fixed(fMonth, 2), lit("-"), fixed(fDay, 2)}
		}
		zone := isoZone
		optTime := func() delem {
			return opt(lit("T"), opt(fixed(fHour, 2),
				opt(lit(":"), fixed(fMinute, 2), opt(lit(":"), fixed(fSecond, 2), opt(frac(1, 9, true)), opt(lit(","), frac(1, 9, false)))),
				opt(zone())))
		}
		basicYMD := func() []delem { return []delem{val(fYear, 4, 4, ssNormal), fixed(fMonth, 2), fixed(fDay, 2)} }
		basicHMS := func() []delem { return []delem{fixed(fHour, 2), fixed(fMinute, 2), fixed(fSecond, 2)} }
		lenientTimePrefix := func() []delem {
			return cat(lenientDate(), lit("T"), h12(fHour), lit(":"), h12(fMinute))
		}

		b := map[string][]dalt{
			"strict_date_optional_time": {a(strictYMD(), optTime())},
			"iso8601":                   {a(strictYMD(), optTime())},
			"strict_date_optional_time_nanos": {a(strictYMD(), opt(cat(lit("T"), strictHMS(),
				opt(frac(1, 9, true)), opt(lit(","), frac(1, 9, false)), opt(zone()))...))},
			"date_optional_time": {a(lenientDate(), opt(lit("T"), opt(h12(fHour),
				opt(lit(":"), h12(fMinute), opt(lit(":"), h12(fSecond)), opt(frac(1, 9, true)),
					opt(lit(","), frac(1, 9, false)), opt(zone())))))},
			"strict_date_time":           {a(strictYMD(), lit("T"), strictHMS(), opt(frac(1, 9, true)), zone())},
			"strict_date_time_no_millis": {a(strictYMD(), lit("T"), strictHMS(), zone())},
			"date_time":                  {a(lenientTimePrefix(), opt(lit(":"), h12(fSecond), frac(1, 9, true)), zone())},
			"date_time_no_millis":        {a(lenientTimePrefix(), opt(lit(":"), h12(fSecond)), opt(zone()))},
			"strict_date":                {altStyle(rsLenient, val(fYear, 4, 10, ep), lit("-"), fixed(fMonth, 2), lit("-"), fixed(fDay, 2))},
			"date":                       {a(lenientDate())},
			"strict_year_month_day":      {a(strictYMD())},
			"year_month_day":             {a(strictYMD()), a(val(fYear, 1, 19, ssNormal), lit("-"), val(fMonth, 1, 19, ssNormal), lit("-"), val(fDay, 1, 19, ssNormal))},
			"strict_year_month":          {a(val(fYear, 4, 4, ep), lit("-"), fixed(fMonth, 2))},
			"year_month":                 {a(val(fYear, 1, 19, ssNormal), lit("-"), val(fMonth, 1, 19, ssNormal))},
			"strict_year":                {a(val(fYear, 4, 4, ep))},
			"year":                       {a(val(fYear, 1, 19, ssNormal))},
			"strict_date_hour":           {smart(patYMD(), lit("T"), fixed(fHour, 2))},
			"date_hour":                  {a(lenientDate(), lit("T"), h12(fHour))},
			"strict_date_hour_minute":    {smart(patYMD(), lit("T"), fixed(fHour, 2), lit(":"), fixed(fMinute, 2))},
			"date_hour_minute":           {a(lenientTimePrefix())},
			"strict_date_hour_minute_second": {a(strictYMD(), lit("T"), strictHMS()),
				smart(patYMD(), lit("T"), strictHMS())},
			"date_hour_minute_second":                 {a(lenientDate(), lit("T"), lenientHMS())},
			"strict_date_hour_minute_second_fraction": {a(strictYMD(), lit("T"), strictHMS(), frac(1, 9, true))},
			"strict_date_hour_minute_second_millis":   {a(strictYMD(), lit("T"), strictHMS(), frac(1, 9, true))},
			"date_hour_minute_second_fraction":        {a(lenientDate(), lit("T"), lenientHMS(), frac(1, 9, true))},
			"date_hour_minute_second_millis":          {a(lenientDate(), lit("T"), lenientHMS(), frac(1, 3, true))},
			"strict_hour_minute_second":               {a(strictHMS())},
			"hour_minute_second":                      {a(lenientHMS())},
			"strict_hour_minute_second_fraction":      {a(strictHMS(), frac(1, 9, true))},
			"strict_hour_minute_second_millis":        {a(strictHMS(), frac(1, 9, true))},
			"hour_minute_second_fraction":             {a(lenientHMS(), frac(1, 9, true))},
			"hour_minute_second_millis":               {a(lenientHMS(), frac(1, 3, true))},
			"strict_hour_minute":                      {smart(fixed(fHour, 2), lit(":"), fixed(fMinute, 2))},
			"hour_minute":                             {a(h12(fHour), lit(":"), h12(fMinute))},
			"strict_hour":                             {smart(fixed(fHour, 2))},
			"hour":                                    {a(h12(fHour))},
			"strict_time":                             {a(strictHMS(), frac(1, 9, true), zone())},
			"time":                                    {a(lenientHMS(), frac(1, 9, true), zone())},
			"strict_time_no_millis":                   {a(strictHMS(), zone())},
			"time_no_millis":                          {a(lenientHMS(), zone())},
			"strict_t_time":                           {a(lit("T"), strictHMS(), frac(1, 9, true), zone())},
			"t_time":                                  {a(lit("T"), lenientHMS(), frac(1, 9, true), zone())},
			"strict_t_time_no_millis":                 {a(lit("T"), strictHMS(), zone())},
			"t_time_no_millis":                        {a(lit("T"), lenientHMS(), zone())},
			"basic_date":                              {a(val(fYear, 1, 4, ssNormal), val(fMonth, 1, 2, ssNotNegative), val(fDay, 1, 2, ssNotNegative))},
			"basic_date_time":                         {a(basicYMD(), lit("T"), basicHMS(), frac(1, 9, true), zone())},
			"basic_date_time_no_millis":               {a(basicYMD(), lit("T"), basicHMS(), zone())},
			"basic_time":                              {a(basicHMS(), frac(1, 9, true), zone())},
			"basic_time_no_millis":                    {a(basicHMS(), zone())},
			"basic_t_time":                            {a(lit("T"), basicHMS(), frac(1, 9, true), zone())},
			"basic_t_time_no_millis":                  {a(lit("T"), basicHMS(), zone())},
			"basic_ordinal_date":                      {smart(val(fYear, 4, 19, ep), fixed(fDayOfYear, 3))},
			"basic_ordinal_date_time":                 {a(val(fYear, 4, 19, ep), fixed(fDayOfYear, 3), lit("T"), basicHMS(), frac(1, 9, true), zone())},
			"basic_ordinal_date_time_no_millis":       {a(val(fYear, 4, 19, ep), fixed(fDayOfYear, 3), lit("T"), basicHMS(), zone())},
			"strict_ordinal_date":                     {a(val(fYear, 4, 4, ep), lit("-"), fixed(fDayOfYear, 3))},
			"ordinal_date":                            {a(val(fYear, 4, 10, ep), lit("-"), val(fDayOfYear, 1, 3, ssNotNegative))},
			"strict_ordinal_date_time": {a(val(fYear, 4, 4, ep), lit("-"), fixed(fDayOfYear, 3), lit("T"),
				fixed(fHour, 2), lit(":"), fixed(fMinute, 2), opt(lit(":"), fixed(fSecond, 2), frac(1, 9, true)), zone())},
			"ordinal_date_time": {a(val(fYear, 4, 10, ep), lit("-"), val(fDayOfYear, 1, 3, ssNotNegative), lit("T"),
				h12(fHour), lit(":"), h12(fMinute), opt(lit(":"), h12(fSecond), frac(1, 9, true)), zone())},
			"strict_ordinal_date_time_no_millis": {a(val(fYear, 4, 4, ep), lit("-"), fixed(fDayOfYear, 3), lit("T"), strictHMS(), zone())},
			"ordinal_date_time_no_millis":        {a(val(fYear, 4, 10, ep), lit("-"), val(fDayOfYear, 1, 3, ssNotNegative), lit("T"), lenientHMS(), zone())},
		}
		builtins = b
	})
	return builtins
}

// isWeekFormat reports the week-based built-ins, which are not implemented.
func isWeekFormat(name string) bool {
	n := strings.TrimPrefix(name, "strict_")
	return strings.Contains(n, "week") && !strings.ContainsAny(n, "'-/ :")
}

var (
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortDays   = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	longDays    = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// compilePattern compiles a java.time DateTimeFormatter pattern
// (DateTimeFormatterBuilder.appendPattern). Letters this engine does not
// implement (eras, weeks, quarters, zone names) are reported as errors rather
// than silently never matching.
func compilePattern(p string) ([]delem, error) {
	stack := [][]delem{nil}
	push := func(e delem) { stack[len(stack)-1] = append(stack[len(stack)-1], e) }
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			e, err := patternLetter(c, n)
			if err != nil {
				return nil, err
			}
			push(e)
			i += n
		case c == '\'':
			j := i + 1
			var sb strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("pattern ends with an incomplete string literal: %s", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				push(lit("'")) // '' is a quote
			} else if sb.Len() > 0 {
				push(lit(sb.String()))
			}
			i = j + 1
		case c == '[':
			if len(stack) > 100 {
				return nil, fmt.Errorf("optional sections nested too deeply")
			}
			stack = append(stack, nil)
			i++
		case c == ']':
			if len(stack) == 1 {
				return nil, fmt.Errorf("pattern invalid as it contains ] without previous [")
			}
			inner := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			push(opt(inner...))
			i++
		case c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("pattern includes reserved character: '%c'", c)
		default:
			push(lit(string(c)))
			i++
		}
	}
	// java.time closes unterminated optional sections at the end.
	for len(stack) > 1 {
		inner := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		push(opt(inner...))
	}
	return seq(stack[0]...), nil
}

func patternLetter(c byte, n int) (delem, error) {
	tooMany := fmt.Errorf("too many pattern letters: %c", c)
	num := func(f dfield) (delem, error) {
		switch n {
		case 1:
			return val(f, 1, 19, ssNormal), nil
		case 2:
			return fixed(f, 2), nil
		}
		return delem{}, tooMany
	}
	switch c {
	case 'y', 'u':
		f := fYearOfEra
		if c == 'u' {
			f = fYear
		}
		switch {
		case n == 2:
			return delem{kind: eReduced, field: f, min: 2, max: 2}, nil
		case n < 4:
			return val(f, n, 19, ssNormal), nil
		}
		return val(f, n, 19, ssExceedsPad), nil
	case 'M', 'L':
		switch n {
		case 1, 2:
			return num(fMonth)
		case 3:
			return delem{kind: eText, field: fMonth, names: shortMonths, nameBase: 1}, nil
		case 4:
			return delem{kind: eText, field: fMonth, names: longMonths, nameBase: 1}, nil
		case 5:
			return delem{}, fmt.Errorf("unsupported pattern letters: narrow month %q", strings.Repeat(string(c), n))
		}
		return delem{}, tooMany
	case 'd':
		return num(fDay)
	case 'H':
		return num(fHour)
	case 'h':
		return num(fClockHourAmPm)
	case 'K':
		return num(fHourAmPm)
	case 'k':
		return num(fClockHourDay)
	case 'm':
		return num(fMinute)
	case 's':
		return num(fSecond)
	case 'D':
		switch n {
		case 1:
			return val(fDayOfYear, 1, 19, ssNormal), nil
		case 2:
			return val(fDayOfYear, 2, 3, ssNotNegative), nil
		case 3:
			return fixed(fDayOfYear, 3), nil
		}
		return delem{}, tooMany
	case 'S':
		if n > 9 {
			return delem{}, tooMany
		}
		return frac(n, n, false), nil
	case 'a':
		if n > 1 {
			return delem{}, tooMany
		}
		return delem{kind: eText, field: fAmPm, names: []string{"AM", "PM"}}, nil
	case 'E':
		switch {
		case n <= 3:
			return delem{kind: eText, field: fDayOfWeek, names: shortDays, nameBase: 1}, nil
		case n == 4:
			return delem{kind: eText, field: fDayOfWeek, names: longDays, nameBase: 1}, nil
		case n == 5:
			return delem{}, fmt.Errorf("unsupported pattern letters: narrow day-of-week EEEEE")
		}
		return delem{}, tooMany
	case 'V':
		if n != 2 {
			return delem{}, fmt.Errorf("pattern letter count must be 2: V")
		}
		return delem{kind: eZone}, nil
	case 'X', 'x':
		pats := []string{"+HHmm", "+HHMM", "+HH:MM", "+HHMMss", "+HH:MM:ss"}
		zeros := []string{"+00", "+0000", "+00:00", "+0000", "+00:00"}
		if n > 5 {
			return delem{}, tooMany
		}
		if c == 'X' {
			return offsetElem(pats[n-1], "Z"), nil
		}
		return offsetElem(pats[n-1], zeros[n-1]), nil
	case 'Z':
		switch {
		case n <= 3:
			return offsetElem("+HHMM", "+0000"), nil
		case n == 5:
			return offsetElem("+HH:MM:ss", "Z"), nil
		case n == 4:
			return delem{}, fmt.Errorf("unsupported pattern letters: localized offset ZZZZ")
		}
		return delem{}, tooMany
	case 'G', 'Y', 'w', 'W', 'e', 'c', 'F', 'Q', 'q', 'z', 'v', 'O', 'B', 'A', 'n', 'N', 'g':
		return delem{}, fmt.Errorf("unsupported pattern letter: %c", c)
	}
	return delem{}, fmt.Errorf("unknown pattern letter: %c", c)
}

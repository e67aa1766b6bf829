package evtx

import (
	"strconv"
	"strings"
	"time"
)

// Attr is an attribute of an Element with its typed value.
type Attr struct {
	Name  string
	Value Value
}

// Element is one XML element of an event record: its name, attributes, child
// elements and text content, kept as typed values (Values) so a normaliser can
// render numbers, hex, SIDs, GUIDs and times as it needs to.
type Element struct {
	Name     string
	Attrs    []Attr
	Children []*Element
	Values   []Value
}

// Attr returns the value of the named attribute.
func (e *Element) Attr(name string) (Value, bool) {
	if e == nil {
		return Value{}, false
	}
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return Value{}, false
}

// attr is Attr without copying the value (nil when absent).
func (e *Element) attr(name string) *Value {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			return &e.Attrs[i].Value
		}
	}
	return nil
}

// Child returns the first child element with the given name, or nil.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Value returns the element's content as one value: the typed value itself when
// the element holds exactly one, else the concatenated text as a string value.
func (e *Element) Value() Value {
	if e == nil || len(e.Values) == 0 {
		return Value{}
	}
	if len(e.Values) == 1 {
		return e.Values[0]
	}
	return Value{Type: StringType, Str: e.Text()}
}

// Text returns the element's text content rendered as python-evtx does.
func (e *Element) Text() string {
	if e == nil {
		return ""
	}
	if len(e.Values) == 1 {
		return e.Values[0].String()
	}
	var sb strings.Builder
	for _, v := range e.Values {
		sb.WriteString(v.String())
	}
	return sb.String()
}

// XML renders the element as python-evtx's evtx_dump does: every end tag is
// followed by a newline, empty elements are written as <X></X>, null
// attributes as Name="", times as "YYYY-MM-DD HH:MM:SS.ffffff" (truncated to
// microseconds; python-evtx goes through a float and is sometimes 1 µs lower).
// Unlike python-evtx, non-ASCII text is written as UTF-8, not &#NNN;, and CR
// characters are kept; only &, <, > (and " in attributes) are escaped.
func (e *Element) XML() string {
	var sb strings.Builder
	e.writeXML(&sb)
	return sb.String()
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
)

func (e *Element) writeXML(sb *strings.Builder) {
	sb.WriteByte('<')
	sb.WriteString(e.Name)
	for _, a := range e.Attrs {
		sb.WriteByte(' ')
		sb.WriteString(a.Name)
		sb.WriteString(`="`)
		attrEscaper.WriteString(sb, a.Value.String())
		sb.WriteByte('"')
	}
	sb.WriteByte('>')
	for _, v := range e.Values {
		if v.Type == BinXMLType {
			sb.WriteString(v.String())
			continue
		}
		textEscaper.WriteString(sb, v.String())
	}
	for _, c := range e.Children {
		c.writeXML(sb)
	}
	sb.WriteString("</")
	sb.WriteString(e.Name)
	sb.WriteString(">\n")
}

// System holds the fields of an event's System element.
type System struct {
	ProviderName      string
	ProviderGUID      string
	EventSourceName   string
	EventID           uint32
	Qualifiers        uint32
	HasQualifiers     bool
	Version           uint8
	Level             uint8
	Task              uint16
	Opcode            uint8
	Keywords          uint64
	TimeCreated       time.Time
	EventRecordID     uint64
	ActivityID        string
	RelatedActivityID string
	ProcessID         uint32
	ThreadID          uint32
	Channel           string
	Computer          string
	UserID            string
}

// System extracts the System fields of the record's event. Where an element
// occurs twice, the first counts.
func (r *Record) System() System {
	var s System
	sys := r.Root.Child("System")
	if sys == nil {
		return s
	}
	str := func(v *Value) string {
		if v == nil {
			return ""
		}
		if v.Type == StringType || v.Type == AnsiStringType {
			return v.Str
		}
		return v.String()
	}
	num := func(v Value) uint64 { n, _ := v.Uint(); return n }
	// One pass over the children (Child per field would rescan them).
	var seen uint32
	for _, c := range sys.Children {
		var bit uint32
		switch c.Name {
		case "Provider":
			bit = 1 << 0
		case "EventID":
			bit = 1 << 1
		case "Version":
			bit = 1 << 2
		case "Level":
			bit = 1 << 3
		case "Task":
			bit = 1 << 4
		case "Opcode":
			bit = 1 << 5
		case "Keywords":
			bit = 1 << 6
		case "TimeCreated":
			bit = 1 << 7
		case "EventRecordID":
			bit = 1 << 8
		case "Correlation":
			bit = 1 << 9
		case "Execution":
			bit = 1 << 10
		case "Channel":
			bit = 1 << 11
		case "Computer":
			bit = 1 << 12
		case "Security":
			bit = 1 << 13
		}
		if bit == 0 || seen&bit != 0 {
			continue
		}
		seen |= bit
		switch bit {
		case 1 << 0:
			s.ProviderName = str(c.attr("Name"))
			s.ProviderGUID = str(c.attr("Guid"))
			s.EventSourceName = str(c.attr("EventSourceName"))
		case 1 << 1:
			s.EventID = uint32(num(c.Value()))
			if q, ok := c.Attr("Qualifiers"); ok && !q.IsNull() {
				s.Qualifiers, s.HasQualifiers = uint32(num(q)), true
			}
		case 1 << 2:
			s.Version = uint8(num(c.Value()))
		case 1 << 3:
			s.Level = uint8(num(c.Value()))
		case 1 << 4:
			s.Task = uint16(num(c.Value()))
		case 1 << 5:
			s.Opcode = uint8(num(c.Value()))
		case 1 << 6:
			s.Keywords = num(c.Value())
		case 1 << 7:
			if v, ok := c.Attr("SystemTime"); ok {
				s.TimeCreated, _ = v.Time()
			}
		case 1 << 8:
			s.EventRecordID = num(c.Value())
		case 1 << 9:
			s.ActivityID = str(c.attr("ActivityID"))
			s.RelatedActivityID = str(c.attr("RelatedActivityID"))
		case 1 << 10:
			if v, ok := c.Attr("ProcessID"); ok {
				s.ProcessID = uint32(num(v))
			}
			if v, ok := c.Attr("ThreadID"); ok {
				s.ThreadID = uint32(num(v))
			}
		case 1 << 11:
			s.Channel = c.Text()
		case 1 << 12:
			s.Computer = c.Text()
		case 1 << 13:
			s.UserID = str(c.attr("UserID"))
		}
	}
	return s
}

// Field is one named value of an event's EventData or UserData.
type Field struct {
	Name  string
	Value Value
}

// EventData returns the EventData as ordered name/value pairs. Data elements
// without a Name attribute are named param1, param2, ... (as Winlogbeat does);
// other children (e.g. Binary) keep their element name. It is nil when the
// event has no EventData.
func (r *Record) EventData() []Field {
	ed := r.Root.Child("EventData")
	if ed == nil {
		return nil
	}
	return appendEventData(make([]Field, 0, len(ed.Children)), ed)
}

// AppendEventData appends the pairs EventData returns to dst: with a dst
// reused across records it does not allocate.
func (r *Record) AppendEventData(dst []Field) []Field {
	if ed := r.Root.Child("EventData"); ed != nil {
		return appendEventData(dst, ed)
	}
	return dst
}

// paramNames are the names of unnamed Data elements, made once.
var paramNames = func() []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = "param" + strconv.Itoa(i+1)
	}
	return out
}()

func paramName(n int) string {
	if n <= len(paramNames) {
		return paramNames[n-1]
	}
	return "param" + strconv.Itoa(n)
}

func appendEventData(out []Field, ed *Element) []Field {
	n := 0
	for _, c := range ed.Children {
		name := c.Name
		if c.Name == "Data" {
			n++
			name = ""
			if v := c.attr("Name"); v != nil {
				if v.Type == StringType || v.Type == AnsiStringType {
					name = v.Str // String() without the copy, for the usual case
				} else {
					name = v.String()
				}
			}
			if name == "" {
				name = paramName(n)
			}
		}
		out = append(out, Field{Name: name})
		f := &out[len(out)-1]
		if len(c.Values) == 1 {
			f.Value = c.Values[0]
		} else {
			f.Value = c.Value()
		}
	}
	return out
}

// UserData returns the children of UserData's first element as name/value pairs
// (element name to content), in document order. It is nil when the event has
// no UserData.
func (r *Record) UserData() []Field {
	ud := r.Root.Child("UserData")
	if ud == nil || len(ud.Children) == 0 {
		return nil
	}
	return r.AppendUserData(make([]Field, 0, len(ud.Children[0].Children)))
}

// AppendUserData appends the pairs UserData returns to dst: with a dst
// reused across records it does not allocate.
func (r *Record) AppendUserData(dst []Field) []Field {
	ud := r.Root.Child("UserData")
	if ud == nil || len(ud.Children) == 0 {
		return dst
	}
	for _, c := range ud.Children[0].Children {
		dst = append(dst, Field{Name: c.Name, Value: c.Value()})
	}
	return dst
}

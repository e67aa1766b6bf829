package winlog

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
)

// doc is an ordered JSON document under construction, kept as one flat
// slice of nodes that is reused from record to record, so that building a
// document allocates nothing once the slice has grown (event.Builder
// allocates two slices per object, which was most of the normalisation
// cost). It has the same semantics as event.Builder: dotted paths create
// objects on the way, setting an existing key replaces its value in place
// (keeping its position), empty objects are left out of the output.
// Strings are not copied: they must stay valid until appendJSON.
type doc struct {
	nodes []dnode
}

// A node's id is its index in doc.nodes; 0 is the root object.
type nodeID = int32

const none nodeID = -1

// Node kinds.
const (
	kDeleted = iota // removed key, skipped on output
	kString
	kInt
	kBool   // n != 0
	kRaw    // s is a JSON literal written as is (number, true, false, null)
	kObject // children first..last
	kArray  // children first..last (their keys are unused)
	kTime   // n is Unix nanoseconds, written as ISO-8601 UTC with milliseconds
	kUint   // n written as a decimal string ("4688"), to spare a strconv allocation
	kUpper  // s written upper-cased (GUIDs)
)

type dnode struct {
	key         string
	s           string
	n           int64
	kind        uint8
	first, last nodeID
	next        nodeID
}

func (d *doc) reset() {
	d.nodes = append(d.nodes[:0], dnode{kind: kObject, first: none, last: none, next: none})
}

// find returns the child of parent with the given key, or none.
func (d *doc) find(parent nodeID, key string) nodeID {
	nodes := d.nodes
	for c := nodes[parent].first; c != none; {
		n := &nodes[c]
		// The first byte before the full comparison: most keys of an
		// object differ there, and a string comparison is a call.
		if len(n.key) == len(key) && (len(key) == 0 || n.key[0] == key[0]) && n.kind != kDeleted && n.key == key {
			return c
		}
		c = n.next
	}
	return none
}

// add appends a new child to parent (an object or array).
func (d *doc) add(parent nodeID, key string, kind uint8) nodeID {
	id := nodeID(len(d.nodes))
	if len(d.nodes) == cap(d.nodes) {
		d.nodes = append(d.nodes, dnode{})
	} else {
		d.nodes = d.nodes[:id+1]
	}
	// Field by field: appending a composite literal builds it on the
	// stack and copies it.
	x := &d.nodes[id]
	x.key, x.s, x.n, x.kind = key, "", 0, kind
	x.first, x.last, x.next = none, none, none
	p := &d.nodes[parent]
	if p.last == none {
		p.first = id
	} else {
		d.nodes[p.last].next = id
	}
	p.last = id
	return id
}

// The add* helpers append a member without looking for an existing one:
// for building objects known to be fresh (the EVTX and NXLog headers),
// where the search is measurable.
func (d *doc) addStr(parent nodeID, key, s string) {
	if s != "" {
		d.setKind(d.add(parent, key, kDeleted), kString, s, 0)
	}
}

func (d *doc) addKind(parent nodeID, key string, kind uint8, s string, n int64) {
	d.setKind(d.add(parent, key, kDeleted), kind, s, n)
}

// objKey returns the object at key under parent, creating it (or replacing
// a non-object value).
func (d *doc) objKey(parent nodeID, key string) nodeID {
	c := d.find(parent, key)
	if c == none {
		return d.add(parent, key, kObject)
	}
	if n := &d.nodes[c]; n.kind != kObject {
		n.kind, n.first, n.last = kObject, none, none
	}
	return c
}

// obj returns the object at a dotted path under parent, creating it.
func (d *doc) obj(parent nodeID, path string) nodeID {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			return d.objKey(parent, path)
		}
		parent = d.objKey(parent, path[:i])
		path = path[i+1:]
	}
}

// slot returns the node for a dotted path under parent, creating the
// objects on the way and the final key (as deleted) if absent; the caller
// sets its kind and value. A replaced container loses its children.
func (d *doc) slot(parent nodeID, path string) nodeID {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = d.obj(parent, path[:i])
		path = path[i+1:]
	}
	return d.slotKey(parent, path)
}

// slotKey is slot for one literal key (which may contain dots).
func (d *doc) slotKey(parent nodeID, key string) nodeID {
	c := d.find(parent, key)
	if c == none {
		return d.add(parent, key, kDeleted)
	}
	n := &d.nodes[c]
	n.first, n.last = none, none
	return c
}

func (d *doc) setKind(id nodeID, kind uint8, s string, n int64) {
	x := &d.nodes[id]
	x.kind, x.s, x.n = kind, s, n
}

// set sets path to a string.
func (d *doc) set(parent nodeID, path, s string) { d.setKind(d.slot(parent, path), kString, s, 0) }

// str sets path to s when s is not empty.
func (d *doc) str(parent nodeID, path, s string) {
	if s != "" {
		d.set(parent, path, s)
	}
}

// setKey sets one literal key (which may contain dots) to a string.
func (d *doc) setKey(parent nodeID, key, s string) { d.setKind(d.slotKey(parent, key), kString, s, 0) }

func (d *doc) setInt(parent nodeID, path string, n int64) {
	d.setKind(d.slot(parent, path), kInt, "", n)
}

func (d *doc) setUintString(parent nodeID, path string, n uint64) {
	d.setKind(d.slot(parent, path), kUint, "", int64(n))
}

func (d *doc) setUpper(parent nodeID, path, s string) { d.setKind(d.slot(parent, path), kUpper, s, 0) }

func (d *doc) setBool(parent nodeID, path string, b bool) {
	var n int64
	if b {
		n = 1
	}
	d.setKind(d.slot(parent, path), kBool, "", n)
}

// setTime sets path to t as ISO-8601 UTC with milliseconds.
func (d *doc) setTime(parent nodeID, path string, t time.Time) {
	d.setKind(d.slot(parent, path), kTime, "", t.UnixNano())
}

// setList sets path to an array of strings.
func (d *doc) setList(parent nodeID, path string, a ...string) {
	arr := d.array(parent, path)
	for _, s := range a {
		d.push(arr, s)
	}
}

// array sets path to an empty array and returns it.
func (d *doc) array(parent nodeID, path string) nodeID {
	id := d.slot(parent, path)
	d.nodes[id].kind = kArray
	return id
}

// push appends a string to an array.
func (d *doc) push(arr nodeID, s string) { d.setKind(d.add(arr, "", kDeleted), kString, s, 0) }

// pushObj appends an empty object to an array.
func (d *doc) pushObj(arr nodeID) nodeID { return d.add(arr, "", kObject) }

// remove deletes the key at path, if present.
func (d *doc) remove(parent nodeID, path string) {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			break
		}
		parent = d.find(parent, path[:i])
		if parent == none || d.nodes[parent].kind != kObject {
			return
		}
		path = path[i+1:]
	}
	d.removeKey(parent, path)
}

// removeKey deletes one literal key of parent, if present.
func (d *doc) removeKey(parent nodeID, key string) {
	if c := d.find(parent, key); c != none {
		d.nodes[c].kind = kDeleted
	}
}

// lookup returns the node at a dotted path, or none.
func (d *doc) lookup(parent nodeID, path string) nodeID {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			return d.find(parent, path)
		}
		parent = d.find(parent, path[:i])
		if parent == none || d.nodes[parent].kind != kObject {
			return none
		}
		path = path[i+1:]
	}
}

// getStr returns the string at a dotted path, or "".
func (d *doc) getStr(parent nodeID, path string) string {
	if id := d.lookup(parent, path); id != none && d.nodes[id].kind == kString {
		return d.nodes[id].s
	}
	return ""
}

// has reports whether path holds a value (an empty object counts as absent).
func (d *doc) has(parent nodeID, path string) bool {
	id := d.lookup(parent, path)
	return id != none && !d.empty(id)
}

// empty reports whether id is an object that would be left out of the
// output (no non-deleted member that is itself non-empty).
func (d *doc) empty(id nodeID) bool {
	n := &d.nodes[id]
	switch n.kind {
	case kDeleted:
		return true
	case kObject:
		for c := n.first; c != none; c = d.nodes[c].next {
			if !d.empty(c) {
				return false
			}
		}
		return true
	}
	return false
}

// appendJSON appends the document as JSON.
func (d *doc) appendJSON(b []byte) []byte { return d.appendNode(b, 0) }

func (d *doc) appendNode(b []byte, id nodeID) []byte {
	n := &d.nodes[id]
	switch n.kind {
	case kString:
		return appendStr(b, n.s)
	case kInt:
		return strconv.AppendInt(b, n.n, 10)
	case kBool:
		if n.n != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kRaw:
		return append(b, n.s...)
	case kTime:
		b = append(b, '"')
		b = appendUnixMillis(b, n.n)
		return append(b, '"')
	case kUint:
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(n.n), 10)
		return append(b, '"')
	case kUpper:
		return appendUpperJSON(b, n.s)
	case kArray:
		b = append(b, '[')
		firstElem := true
		for c := n.first; c != none; c = d.nodes[c].next {
			if d.nodes[c].kind == kDeleted {
				continue
			}
			if !firstElem {
				b = append(b, ',')
			}
			firstElem = false
			b = d.appendNode(b, c)
		}
		return append(b, ']')
	case kObject:
		// One pass: a member whose value is an object that came out empty
		// ({}) is cut off again, so empty objects leave no trace.
		b = append(b, '{')
		open := len(b)
		for c := n.first; c != none; c = d.nodes[c].next {
			cn := &d.nodes[c]
			if cn.kind == kDeleted {
				continue
			}
			mark := len(b)
			if len(b) > open {
				b = append(b, ',')
			}
			b = appendStr(b, cn.key)
			b = append(b, ':')
			switch cn.kind {
			case kString: // the common leaf, without the call
				b = appendStr(b, cn.s)
			case kObject:
				valStart := len(b)
				b = d.appendNode(b, c)
				if len(b) == valStart+2 {
					b = b[:mark]
				}
			default:
				b = d.appendNode(b, c)
			}
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendStr writes s as a JSON string (event.AppendJSONString).
func appendStr(b []byte, s string) []byte { return event.AppendJSONString(b, s) }

// appendISOMillis writes t (UTC) as 2006-01-02T15:04:05.000Z.
func appendISOMillis(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return b
}

// appendUnixMillis writes time.Unix(0, ns).UTC() as appendISOMillis does,
// computing the civil date directly (days to year/month/day as in Howard
// Hinnant's civil_from_days) instead of through time.Time's Date and
// Clock: two timestamps per document.
func appendUnixMillis(b []byte, ns int64) []byte {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	days, sod := sec/86400, sec%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	mo := mp + 3
	if mp >= 10 {
		mo = mp - 9
	}
	if mo <= 2 {
		y++
	}
	if y < 0 || y > 9999 {
		return appendISOMillis(b, time.Unix(0, ns).UTC())
	}
	h, mi, s, ms := sod/3600, sod/60%60, sod%60, nsec/1e6
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendUpperJSON writes s upper-cased (ASCII only: GUIDs and hex).
func appendUpperJSON(b []byte, s string) []byte {
	start := len(b)
	b = appendStr(b, s)
	for i := start; i < len(b); i++ {
		if c := b[i]; c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

// copyNode copies a parsed JSON value into the document at id (replacing
// what is there), keeping numbers as written.
func (d *doc) copyNode(id nodeID, v event.Node) {
	switch v.Kind() {
	case event.NodeString:
		d.setKind(id, kString, v.Text(), 0)
	case event.NodeObject:
		d.setKind(id, kObject, "", 0)
		v.Members(func(key string, m event.Node) {
			d.copyNode(d.slotKey(id, key), m)
		})
	case event.NodeArray:
		d.setKind(id, kArray, "", 0)
		v.Elements(func(e event.Node) {
			d.copyNode(d.add(id, "", kDeleted), e)
		})
	default:
		d.setKind(id, kRaw, v.Text(), 0)
	}
}

package event

// Node is a read-only view of one value of a parsed Doc, for callers that
// need the whole document in order (alert building copies every source
// field) rather than fields by path. Valid until the next Parse.
type Node struct {
	d *Doc
	i uint32
}

// NodeKind is the JSON type of a Node.
type NodeKind uint8

const (
	NodeObject NodeKind = iota + 1
	NodeArray
	NodeString
	NodeNumber
	NodeBool
	NodeNull
)

// Root is the document's top-level object.
func (d *Doc) Root() Node { return Node{d: d, i: 0} }

// Kind is the node's JSON type.
func (n Node) Kind() NodeKind {
	switch n.d.tape[n.i].kind {
	case kObject:
		return NodeObject
	case kArray:
		return NodeArray
	case kString:
		return NodeString
	case kNumber:
		return NodeNumber
	case kTrue, kFalse:
		return NodeBool
	}
	return NodeNull
}

// Text is a string's decoded text, a number's literal as written, or
// "true"/"false"/"null". It aliases the Doc's buffers.
func (n Node) Text() string {
	t := &n.d.tape[n.i]
	switch t.kind {
	case kString:
		return n.d.text(t)
	case kNumber:
		return string(n.d.buf[t.start:t.end])
	case kTrue:
		return "true"
	case kFalse:
		return "false"
	}
	return "null"
}

// Members calls fn for an object's keys and values, in document order
// (duplicate keys included).
func (n Node) Members(fn func(key string, v Node)) {
	t := n.d.tape
	for m, end := n.i+1, t[n.i].next; m < end; m = t[m+1].next {
		fn(n.d.text(&t[m]), Node{d: n.d, i: m + 1})
	}
}

// Elements calls fn for an array's elements, in order.
func (n Node) Elements(fn func(v Node)) {
	t := n.d.tape
	for e, end := n.i+1, t[n.i].next; e < end; e = t[e].next {
		fn(Node{d: n.d, i: e})
	}
}

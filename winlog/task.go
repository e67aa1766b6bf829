package winlog

import (
	"encoding/xml"
	"io"
	"strings"
)

// Scheduled-task XML of 4698 (TaskContent) and 4702 (TaskContentNew),
// normalised as the System integration's scheduled_task pipeline does
// (packages/system/data_stream/security/elasticsearch/ingest_pipeline/
// scheduled_task.yml) into winlog.scheduled_task: the registration URI,
// principals, settings, triggers and actions, each trigger and action with
// its canonical "definition" string. The pipeline works on the agent's
// decode_xml output (element names lower-cased, attributes as keys, child
// elements grouped by name); the XML is decoded here instead, to the same
// shape.

// xnode is one decoded XML element.
type xnode struct {
	name     string // local name, lower-cased
	attrs    []xml.Attr
	text     strings.Builder
	children []*xnode
}

// child returns the first child named name (lower case).
func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// all returns the children named name, in document order.
func (n *xnode) all(name string) []*xnode {
	var out []*xnode
	if n != nil {
		for _, c := range n.children {
			if c.name == name {
				out = append(out, c)
			}
		}
	}
	return out
}

// value is decode_xml's scalar for a key: an attribute of that name, else
// the text of the first child element of that name; "" when absent or empty.
func (n *xnode) value(key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if strings.ToLower(a.Name.Local) == key {
			return a.Value
		}
	}
	if c := n.child(key); c != nil && len(c.children) == 0 {
		return strings.TrimSpace(c.text.String())
	}
	return ""
}

// has reports whether key is present at all (as attribute or element).
func (n *xnode) has(key string) bool {
	if n == nil {
		return false
	}
	for _, a := range n.attrs {
		if strings.ToLower(a.Name.Local) == key {
			return true
		}
	}
	return n.child(key) != nil
}

// parseTaskXML decodes a task definition. The XML declaration names
// UTF-16, but the text is already decoded, so any charset is read as is.
func parseTaskXML(s string) (*xnode, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	root := &xnode{}
	stack := []*xnode{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 64 {
				return nil, io.ErrUnexpectedEOF // absurd nesting: not a task
			}
			n := &xnode{name: strings.ToLower(t.Name.Local), attrs: t.Attr}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text.Write(t)
		}
	}
	return root, nil
}

func taskBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// definition is the pipeline's canonicalDefinition: "v=1" then |key=value
// for every key, values escaped (%, |, =, control characters and DEL as %XX).
func definition(keys []string, vals map[string]string) string {
	var b strings.Builder
	b.WriteString("v=1")
	for _, k := range keys {
		b.WriteByte('|')
		b.WriteString(k)
		b.WriteByte('=')
		v, ok := vals[k]
		if !ok {
			continue
		}
		for _, r := range v {
			if r == '%' || r == '|' || r == '=' || r < 32 || r == 127 {
				b.WriteByte('%')
				b.WriteByte(hexUpper[r>>4&15])
				b.WriteByte(hexUpper[r&15])
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

var (
	taskTriggerKeys = []string{"boottrigger", "wnfstatechangetrigger", "timetrigger", "calendartrigger",
		"logontrigger", "registrationtrigger", "sessionstatechangetrigger", "eventtrigger", "idletrigger"}
	taskTriggerTypes = map[string]string{"boottrigger": "boot", "wnfstatechangetrigger": "wnf_state_change",
		"timetrigger": "time", "calendartrigger": "calendar", "logontrigger": "logon",
		"registrationtrigger": "registration", "sessionstatechangetrigger": "session_state_change",
		"eventtrigger": "event", "idletrigger": "idle"}
	taskTriggerDefKeys = []string{"type", "enabled", "interval", "duration", "stop_at_duration_end"}
	taskActionDefKeys  = []string{"type", "context", "command", "arguments", "working_directory", "class_id"}
)

// mapTaskContent writes winlog.scheduled_task for a 4698 or 4702.
func (m *mapper) mapTaskContent() {
	field := "TaskContent"
	if m.rec.sys.EventID == 4702 {
		field = "TaskContentNew"
	}
	content := m.rec.val(field)
	if content == "" {
		return
	}
	root, err := parseTaskXML(content)
	if err != nil {
		return // the pipeline writes nothing when decoding fails
	}
	task := root.child("task")
	if task == nil {
		task = root
	}
	d := &m.d
	st := d.obj(0, "winlog.scheduled_task")
	d.str(st, "uri", task.child("registrationinfo").value("uri"))

	var principals nodeID = none
	for _, p := range task.child("principals").all("principal") {
		id, uid, gid, lt, rl := p.value("id"), p.value("userid"), p.value("groupid"), p.value("logontype"), p.value("runlevel")
		if id == "" && uid == "" && gid == "" && lt == "" && rl == "" {
			continue
		}
		if principals == none {
			principals = d.array(st, "principals")
		}
		o := d.pushObj(principals)
		d.str(o, "id", id)
		d.str(o, "user.identifier", uid)
		d.str(o, "group.identifier", gid)
		d.str(o, "logon.type", lt)
		d.str(o, "run_level", rl)
	}

	if s := task.child("settings"); s != nil {
		if b, ok := taskBool(s.value("enabled")); ok {
			d.setBool(st, "settings.enabled", b)
		}
		if b, ok := taskBool(s.value("hidden")); ok {
			d.setBool(st, "settings.hidden", b)
		}
	}

	if trig := task.child("triggers"); trig != nil {
		var arr nodeID = none
		for _, key := range taskTriggerKeys {
			for _, t := range trig.all(key) {
				if arr == none {
					arr = d.array(st, "triggers")
				}
				o := d.pushObj(arr)
				vals := map[string]string{"type": taskTriggerTypes[key]}
				d.set(o, "type", vals["type"])
				enabled := true
				if t.has("enabled") {
					b, ok := taskBool(t.value("enabled"))
					if ok {
						enabled = b
					}
					if ok {
						d.setBool(o, "enabled", b)
						vals["enabled"] = boolText(b)
					}
				} else {
					d.setBool(o, "enabled", enabled)
					vals["enabled"] = "true"
				}
				if rep := t.child("repetition"); rep != nil {
					r := d.obj(o, "repetition")
					if v := rep.value("interval"); v != "" {
						d.set(r, "interval", v)
						vals["interval"] = v
					}
					if v := rep.value("duration"); v != "" {
						d.set(r, "duration", v)
						vals["duration"] = v
					}
					if b, ok := taskBool(rep.value("stopatdurationend")); ok {
						d.setBool(r, "stop_at_duration_end", b)
						vals["stop_at_duration_end"] = boolText(b)
					}
				}
				d.set(o, "definition", definition(taskTriggerDefKeys, vals))
			}
		}
	}

	if acts := task.child("actions"); acts != nil {
		context := acts.value("context")
		var arr nodeID = none
		for _, key := range []string{"exec", "comhandler"} {
			for _, a := range acts.all(key) {
				if arr == none {
					arr = d.array(st, "actions")
				}
				o := d.pushObj(arr)
				vals := map[string]string{}
				put := func(k, v string) {
					if v != "" {
						d.set(o, k, v)
						vals[k] = v
					}
				}
				if key == "exec" {
					put("type", "exec")
				} else {
					put("type", "com_handler")
				}
				put("context", context)
				if key == "exec" {
					put("command", a.value("command"))
					put("arguments", a.value("arguments"))
					put("working_directory", a.value("workingdirectory"))
				} else {
					put("class_id", a.value("classid"))
				}
				d.set(o, "definition", definition(taskActionDefKeys, vals))
			}
		}
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

package event

import (
	"strings"
	"testing"
)

func TestNodeWalk(t *testing.T) {
	var p Parser
	d, err := p.Parse([]byte(`{"a":1.50,"b":[true,null,"x\u0041"],"c":{"d":"e"},"a":-2e3}`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n Node)
	walk = func(n Node) {
		switch n.Kind() {
		case NodeObject:
			b.WriteString("{")
			n.Members(func(k string, v Node) { b.WriteString(k + ":"); walk(v); b.WriteString(",") })
			b.WriteString("}")
		case NodeArray:
			b.WriteString("[")
			n.Elements(func(v Node) { walk(v); b.WriteString(",") })
			b.WriteString("]")
		default:
			b.WriteString(n.Text())
		}
	}
	walk(d.Root())
	if got, want := b.String(), "{a:1.50,b:[true,null,xA,],c:{d:e,},a:-2e3,}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

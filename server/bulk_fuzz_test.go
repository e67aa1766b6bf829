package server

import (
	"encoding/json"
	"testing"
)

// FuzzBulk feeds arbitrary bodies to the bulk parser and, for each item
// whose source passes the checks, builds its log entry: nothing may
// panic, and every entry must be valid JSON with _index, _id and
// event.ingested, and keep the source's other top-level fields.
func FuzzBulk(f *testing.F) {
	seeds := []string{
		"{\"index\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n{\"event\":{\"category\":\"process\",\"ingested\":\"x\"},\"a\":1}\n",
		"{\"create\":{}}\n{\"event.ingested\":1,\"b\":[1,{\"c\":\"}\"}]}\n{\"delete\":{\"_id\":\"2\"}}\n",
		"{\"index\":{}}\n{\"event\":\"str\",\"x\":\"\\\"}\\\\\"}\n\n\r\n{\"update\":{\"_id\":\"3\"}}\n{\"doc\":{}}\n",
		"{\"index\":{\"_index\":\"a\"}}\n  {  \"k\" : { \"event\" : 1 } , \"event\" : { } }  \n",
		"{\"foo\":{}}\n{}\n",
		"{\"index\":[]}\n{}\n",
		"{\"index\":{\"_id\":1.5,\"pipeline\":\"p\"}}\n\xef\xbb\xbf{\"\\u0065vent\":{}}\n",
		"{\"index\":{\"_index\":\"a\"}}\n{\"_id\":\"x\"}\n{\"index\":{\"_index\":\"a\"}}\n{\"a\":",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	srv := &Server{cfg: Config{MaxLine: 1 << 20}}
	f.Fuzz(func(t *testing.T, body []byte) {
		st := &reqState{bp: bulkParser{maxLine: 1 << 20}}
		items, err := st.bp.parse(body, "logs-default", "", nil)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for i := range items {
			it := &items[i]
			if e := srv.check(st, it); e != nil {
				if e.Status != 400 || e.Type == "" || e.Reason == "" {
					t.Fatalf("item error %+v", e)
				}
				continue
			}
			out := stored(nil, it.index, "id\n\"", it.doc, `"2026-01-01T00:00:00Z"`)
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("entry %q of %q: %v", out, it.doc, err)
			}
			if m["_index"] != it.index || m["_id"] != "id\n\"" {
				t.Fatalf("metadata lost: %q", out)
			}
			const ts = "2026-01-01T00:00:00Z"
			ev, nested := m["event"].(map[string]any)
			ok := m["event.ingested"] == ts || (nested && ev["ingested"] == ts)
			if _, present := m["event"]; present && !nested {
				ok = true // a non-object "event" is left as it is
			}
			if !ok {
				t.Fatalf("no event.ingested in %q (source %q)", out, it.doc)
			}
			var src map[string]any
			if json.Unmarshal(it.doc, &src) == nil {
				for k := range src {
					if _, ok := m[k]; !ok {
						t.Fatalf("field %q lost: %q -> %q", k, it.doc, out)
					}
				}
			}
		}
	})
}

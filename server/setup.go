package server

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sync"
)

// setupStore records the set-up objects shippers create at start-up
// (index and component templates, ILM policies, ingest pipelines, indices,
// data streams): they are accepted and kept, not applied, so that a
// shipper which checks for them before creating them finds them next time.
type setupStore struct {
	dir string // "" keeps them in memory only
	mu  sync.Mutex
	m   map[string]json.RawMessage // kind + "/" + name
}

func newSetupStore(dir string) *setupStore {
	s := &setupStore{dir: dir, m: map[string]json.RawMessage{}}
	if dir == "" {
		return s
	}
	kinds, _ := os.ReadDir(dir)
	for _, k := range kinds {
		files, _ := os.ReadDir(filepath.Join(dir, k.Name()))
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, k.Name(), f.Name()))
			if err != nil || !json.Valid(data) {
				continue
			}
			name, err := url.PathUnescape(trimExt(f.Name()))
			if err != nil {
				continue
			}
			s.m[k.Name()+"/"+name] = data
		}
	}
	return s
}

func trimExt(n string) string { return n[:len(n)-len(filepath.Ext(n))] }

func (s *setupStore) put(kind, name string, body []byte) error {
	if len(body) == 0 || !json.Valid(body) {
		body = []byte("{}")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[kind+"/"+name] = append(json.RawMessage(nil), body...)
	if s.dir == "" {
		return nil
	}
	d := filepath.Join(s.dir, kind)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, url.PathEscape(name)+".json"), body, 0o600)
}

func (s *setupStore) get(kind, name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[kind+"/"+name]
	return b, ok
}

func (s *setupStore) del(kind, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[kind+"/"+name]
	delete(s.m, kind+"/"+name)
	if ok && s.dir != "" {
		os.Remove(filepath.Join(s.dir, kind, url.PathEscape(name)+".json"))
	}
	return ok
}

package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// KeysFile is the API key file in the data directory.
const KeysFile = "apikeys.json"

// APIKey is one stored key: the secret is kept only as its SHA-256 (the
// secret is 32 random bytes, so a fast hash is enough; there is nothing to
// brute-force).
type APIKey struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Hash    string    `json:"sha256"`
	Created time.Time `json:"created"`
}

// CreateAPIKey adds a key named name to dir's key file and returns the
// encoded key, base64(id:secret): the value clients send as
// "Authorization: ApiKey <encoded>", as Elasticsearch's API keys.
func CreateAPIKey(dir, name string) (encoded string, k APIKey, err error) {
	if strings.TrimSpace(name) == "" {
		return "", k, errors.New("apikey: a name is required")
	}
	id, secret := make([]byte, 12), make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return "", k, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", k, err
	}
	k = APIKey{ID: base64.RawURLEncoding.EncodeToString(id), Name: name, Created: time.Now().UTC().Truncate(time.Second)}
	sec := base64.RawURLEncoding.EncodeToString(secret)
	k.Hash = hashSecret(sec)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", k, err
	}
	path := filepath.Join(dir, KeysFile)
	keys, err := readKeys(path)
	if err != nil {
		return "", k, err
	}
	keys = append(keys, k)
	data, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return "", k, err
	}
	// Write then rename: a running server never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return "", k, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", k, err
	}
	return base64.StdEncoding.EncodeToString([]byte(k.ID + ":" + sec)), k, nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func readKeys(path string) ([]APIKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []APIKey
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// KeyStore checks API keys against the key file, re-reading it when it
// changes (at most once a second), so keys created while the server runs
// work at once.
type KeyStore struct {
	path string

	mu      sync.Mutex
	byID    map[string]APIKey
	mtime   time.Time
	size    int64
	checked time.Time
}

// NewKeyStore reads dir's key file (absent: no keys).
func NewKeyStore(dir string) (*KeyStore, error) {
	ks := &KeyStore{path: filepath.Join(dir, KeysFile)}
	if err := ks.reload(true); err != nil {
		return nil, err
	}
	return ks, nil
}

// Len is the number of keys.
func (ks *KeyStore) Len() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return len(ks.byID)
}

func (ks *KeyStore) reload(force bool) error {
	now := time.Now()
	if !force && now.Sub(ks.checked) < time.Second {
		return nil
	}
	ks.checked = now
	st, err := os.Stat(ks.path)
	if errors.Is(err, os.ErrNotExist) {
		ks.byID = map[string]APIKey{}
		return nil
	}
	if err != nil {
		return err
	}
	if !force && st.ModTime().Equal(ks.mtime) && st.Size() == ks.size {
		return nil
	}
	keys, err := readKeys(ks.path)
	if err != nil {
		return err
	}
	m := make(map[string]APIKey, len(keys))
	for _, k := range keys {
		m[k.ID] = k
	}
	ks.byID, ks.mtime, ks.size = m, st.ModTime(), st.Size()
	return nil
}

// Check validates an Authorization header value: "ApiKey <base64(id:key)>"
// (Elasticsearch's form) or "Basic <base64(id:key)>" (for shippers that
// only do basic authentication: the key id as user, the key as password).
// It returns the key's name.
func (ks *KeyStore) Check(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok {
		return "", false
	}
	if !strings.EqualFold(scheme, "ApiKey") && !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", false
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", false
	}
	ks.mu.Lock()
	if err := ks.reload(false); err != nil {
		// Keep the keys already known: a broken edit must not lock
		// everyone out, nor let anyone in.
		ks.checked = time.Now()
	}
	k, found := ks.byID[id]
	ks.mu.Unlock()
	if !found {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) != 1 {
		return "", false
	}
	return k.Name, true
}

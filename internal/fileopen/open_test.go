package fileopen

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 16)
	n, _ := f.Read(b)
	if string(b[:n]) != "content" || f.Name() != p {
		t.Fatalf("read %q from %s", b[:n], f.Name())
	}
	if _, err := Open(p + ".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	var pe *fs.PathError
	if _, err := Open(p + ".missing"); !errors.As(err, &pe) || pe.Path != p+".missing" {
		t.Fatalf("error does not name the path: %v", err)
	}
}

//go:build !unix

package fileopen

import "os"

func Open(path string) (*os.File, error) { return os.Open(path) }

//go:build !unix

package evtx

import "os"

func openFile(path string) (*os.File, error) { return os.Open(path) }

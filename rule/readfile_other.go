//go:build !unix

package rule

import "os"

func readFile(path string, _ []byte) ([]byte, error) { return os.ReadFile(path) }

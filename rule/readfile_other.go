//go:build !unix

package rule

import "os"

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

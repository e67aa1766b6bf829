//go:build !linux

package evtx

// hole: SEEK_DATA is only used on Linux (see hole_linux.go).
func (r *Reader) hole(from, to int64) bool { return false }

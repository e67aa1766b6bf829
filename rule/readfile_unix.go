//go:build unix

package rule

import (
	"os"
	"syscall"
)

// readFile is os.ReadFile in fewer system calls: os.Open registers every
// file with the poller (non-blocking mode set, epoll refused, blocking
// mode restored), which costs more than the read itself for the small
// files of a rule set. The content goes to buf when it fits.
func readFile(path string, buf []byte) ([]byte, error) {
	fd, err := openRetry(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := fstatRetry(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	// One byte more than the size, so that the end shows at once when
	// the size is right (files in /proc report 0).
	data := buf[:0]
	if need := max(int(st.Size), 512) + 1; cap(buf) < need {
		data = make([]byte, 0, need)
	}
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return data, nil
		}
		data = data[:len(data)+n]
	}
}

func openRetry(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func fstatRetry(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}

// Package evtx reads Windows XML event log (.evtx) files: the file header,
// 64 KiB chunks, event records and their Binary XML (templates, substitutions
// and every value type), with checksums verified.
//
// A Reader streams records chunk by chunk; memory is bounded by one chunk plus
// the record being returned (and a per-chunk cap on how far templates may
// expand). Damage is not fatal: a chunk whose signature or header checksum is
// bad is reported by Next as a *ChunkError and skipped; a chunk whose event
// records checksum is wrong, or that is truncated, is reported as a
// *ChunkError and its records are still read, each checked on its own (magic,
// size, trailing size copy, Binary XML); a record that cannot be decoded is
// reported as a *RecordError and skipped. Reading continues on the following
// call to Next. A file header checksum mismatch is reported by the first Next
// as a *ChunkError with Chunk -1. Any other error (I/O) is fatal and repeated
// by further calls. Callers log recoverable errors and keep calling Next until
// io.EOF:
//
//	for {
//		rec, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if evtx.IsRecoverable(err) {
//			log.Print(err)
//			continue
//		}
//		if err != nil {
//			return err
//		}
//		use(rec)
//	}
//
// Speed: templates are parsed once per chunk; a record's template instance is
// instantiated as it is read, into arenas reused from record to record (see
// arena.go), so decoding allocates nothing per element or value. By default
// Next then copies the record out (Record.Clone, a few allocations) so that
// records are independent; a caller that is done with each record before the
// next call to Next (a normaliser) sets Reader.Reuse and skips that copy,
// which roughly halves the cost of reading. The reader's working memory (the
// chunk buffer, template pools, arenas) is pooled across readers, so reading
// many small files does not allocate it for each.
package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/vigilsec/vigil/internal/fileopen"
	"hash/crc32"
	"io"
	"sync"
	"time"
)

const (
	fileHeaderSize = 4096
	chunkSize      = 65536
	chunkHdrSize   = 512
	recordHdrSize  = 24
	recordMagic    = 0x00002a2a
)

var (
	fileMagic  = []byte("ElfFile\x00")
	chunkMagic = []byte("ElfChnk\x00")
)

// Record is one event record.
type Record struct {
	ID   uint64    // event record identifier from the record header
	Time time.Time // written time from the record header (UTC)
	Root *Element  // the event (normally <Event>); never nil for a returned record
	// Chunk is the index of the chunk holding the record, Offset the record's file offset.
	Chunk  int
	Offset int64
}

// XML renders the record's event as python-evtx does.
func (r *Record) XML() string { return r.Root.XML() }

// ChunkError reports a damaged chunk (bad magic or header checksum), or a
// records-checksum mismatch, or a damaged file header (Chunk -1). It is not
// fatal: after it, Next continues with the following chunk (for a records
// checksum mismatch, with the records of the same chunk).
type ChunkError struct {
	File   string
	Chunk  int   // chunk index, -1 for the file header
	Offset int64 // file offset of the chunk
	Err    error
}

func (e *ChunkError) Error() string {
	if e.Chunk < 0 {
		return fmt.Sprintf("%s: file header: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: chunk %d (offset %#x): %v", e.File, e.Chunk, e.Offset, e.Err)
}
func (e *ChunkError) Unwrap() error { return e.Err }

// RecordError reports a record that could not be read; it is skipped and Next
// continues with the next record (or the next chunk when the record's size is
// unusable).
type RecordError struct {
	File   string
	Chunk  int
	Offset int64  // file offset of the record
	ID     uint64 // record identifier from its header, 0 if unknown
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: chunk %d record at offset %#x (id %d): %v", e.File, e.Chunk, e.Offset, e.ID, e.Err)
}
func (e *RecordError) Unwrap() error { return e.Err }

// IsRecoverable reports whether err is a *ChunkError or *RecordError, after
// which Next may be called again.
func IsRecoverable(err error) bool {
	var ce *ChunkError
	var re *RecordError
	return errors.As(err, &ce) || errors.As(err, &re)
}

// FileHeader is the parsed file header.
type FileHeader struct {
	FirstChunk, LastChunk uint64
	NextRecordID          uint64
	HeaderSize            uint32
	MinorVersion          uint16
	MajorVersion          uint16
	BlockSize             uint16
	ChunkCount            uint16
	Flags                 uint32
	Checksum              uint32
	ChecksumOK            bool
}

// Reader reads the records of one EVTX file.
type Reader struct {
	Header FileHeader

	// Reuse makes Next return records whose memory the reader reuses: a
	// record (its elements, values and strings) is valid only until the next
	// call to Next or Close. This saves copying each record out of the
	// reader's arenas; Record.Clone keeps a record for longer. By default
	// (false) every record is independent of the reader.
	Reuse bool

	r      io.ReaderAt
	closer io.Closer
	size   int64
	name   string

	nchunks  int // chunk slots in the file
	chunk    int // index of the next chunk to load
	cur      int // index of the loaded chunk, -1 if none
	st       *state
	free     int // end of record data in the current chunk
	pos      int // next record offset in the current chunk
	pending  []error
	fatal    error
	eof      bool
	nrecords int
	noVerify bool // skip chunk checksums (fuzzing only)
	whole    bool // always read whole chunks (tests compare both ways)

	// The part of the current chunk past its records, read on demand.
	tailOff int64
	tailEnd int
	tailErr error

	hdr [128]byte // the file header as read

	holeFrom, holeTo int64 // a hole of the file (reads as zeros), from hole
}

// state is the working memory of a reader: the chunk buffer and the parser
// with its template pools and record arena. It is taken from statePool when
// the first chunk is read and returned at the end of the file (or on Close),
// so that reading many small files does not allocate it for each.
type state struct {
	buf []byte
	p   parser
	rec Record // the record returned with Reuse
}

var statePool = sync.Pool{New: func() any { return &state{buf: make([]byte, chunkSize)} }}

var errClosed = errors.New("evtx: reader closed")

// release returns the reader's working memory to the pool.
func (r *Reader) release() {
	if r.st != nil {
		r.st.p.b, r.st.p.tail = nil, nil // the pooled state keeps neither the chunk nor r
		statePool.Put(r.st)
		r.st, r.cur = nil, -1
	}
}

// Open opens an EVTX file. Close releases it.
func Open(path string) (*Reader, error) {
	f, err := fileopen.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// Close closes the file opened by Open (for NewReader, it only releases the
// reader's memory). Next must not be called after Close.
func (r *Reader) Close() error {
	r.release()
	if r.fatal == nil {
		r.fatal = errClosed
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// NewReader reads an EVTX file of the given size from r; name is used in errors.
// Reading goes through r.ReadAt; when r is an *os.File the reader may also
// move its file offset (it asks where a sparse file's holes are).
// It fails only when the file header is missing or lacks the ElfFile signature;
// a header checksum mismatch is reported by the first call to Next as a *ChunkError.
func NewReader(r io.ReaderAt, size int64, name string) (*Reader, error) {
	if size < 128 {
		return nil, fmt.Errorf("%s: not an EVTX file: %d bytes", name, size)
	}
	// The header is read into the Reader: one allocation per file.
	rd := &Reader{r: r, size: size, name: name, cur: -1}
	hdr := rd.hdr[:]
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("%s: reading file header: %w", name, err)
	}
	if !bytes.Equal(hdr[:8], fileMagic) {
		return nil, fmt.Errorf("%s: not an EVTX file (no ElfFile signature)", name)
	}
	le := binary.LittleEndian
	h := FileHeader{
		FirstChunk: le.Uint64(hdr[8:]), LastChunk: le.Uint64(hdr[16:]), NextRecordID: le.Uint64(hdr[24:]),
		HeaderSize: le.Uint32(hdr[32:]), MinorVersion: le.Uint16(hdr[36:]), MajorVersion: le.Uint16(hdr[38:]),
		BlockSize: le.Uint16(hdr[40:]), ChunkCount: le.Uint16(hdr[42:]), Flags: le.Uint32(hdr[120:]),
		Checksum: le.Uint32(hdr[124:]),
	}
	h.ChecksumOK = crc32.ChecksumIEEE(hdr[:120]) == h.Checksum
	rd.Header = h
	if size > fileHeaderSize {
		rd.nchunks = int((size - fileHeaderSize) / chunkSize)
		if (size-fileHeaderSize)%chunkSize >= chunkHdrSize {
			rd.nchunks++ // a truncated last chunk: read what it holds
		}
	}
	if !h.ChecksumOK {
		rd.pending = append(rd.pending, &ChunkError{File: name, Chunk: -1, Err: fmt.Errorf("header checksum mismatch (stored %#08x, computed %#08x)", h.Checksum, crc32.ChecksumIEEE(hdr[:120]))})
	}
	return rd, nil
}

// Next returns the next record, io.EOF after the last one, a *ChunkError or
// *RecordError (recoverable: call Next again) or another error (fatal, e.g. I/O).
//
// The returned record does not share memory with the reader, unless Reuse is
// set (then it is valid until the next call to Next or Close).
func (r *Reader) Next() (*Record, error) {
	for {
		if len(r.pending) > 0 {
			err := r.pending[0]
			r.pending = r.pending[1:]
			return nil, err
		}
		if r.fatal != nil {
			return nil, r.fatal
		}
		if r.eof {
			return nil, io.EOF
		}
		if r.cur >= 0 && r.pos+recordHdrSize <= r.free {
			rec, err := r.nextRecord()
			if rec != nil || err != nil {
				return rec, err
			}
			continue
		}
		if r.chunk >= r.nchunks {
			r.eof = true
			r.release()
			continue
		}
		r.loadChunk(r.chunk)
		r.chunk++
	}
}

// loadChunk reads chunk i into the buffer and validates it; problems are queued
// in r.pending. On success r.cur = i.
func (r *Reader) loadChunk(i int) {
	r.cur = -1
	if r.st == nil {
		r.st = statePool.Get().(*state)
	}
	off := int64(fileHeaderSize) + int64(i)*chunkSize
	buf := r.st.buf
	if end := min(r.size, off+chunkSize); off >= r.holeFrom && end <= r.holeTo {
		// Inside a hole found for an earlier slot (unused slots come in
		// runs): zeros, as reading would have found, unread.
		if n := end - off; n < chunkSize {
			r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("truncated chunk (%d of %d bytes)", n, chunkSize)})
		}
		return
	}
	// The header first: for a sound chunk only the records (up to the free
	// space offset, on average under half the chunk) are read; the rest is
	// read only if a damaged record points into it (parser.tail).
	n, err := r.r.ReadAt(buf[:chunkHdrSize], off)
	if err == nil && n == chunkHdrSize {
		if !r.whole && r.loadRecords(i, off) {
			return
		}
		if end := min(r.size, off+chunkSize); !r.whole && allZero(buf[:chunkHdrSize]) && r.hole(off+chunkHdrSize, end) {
			// An unused slot whose rest is a hole: what reading it would
			// have found (zeros, up to the end of the file), unread.
			if n := end - off; n < chunkSize {
				r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("truncated chunk (%d of %d bytes)", n, chunkSize)})
			}
			return
		}
		var n2 int
		n2, err = r.r.ReadAt(buf[chunkHdrSize:], off+chunkHdrSize)
		n += n2
	}
	if err != nil && err != io.EOF {
		r.fatal = fmt.Errorf("%s: reading chunk %d: %w", r.name, i, err)
		r.release()
		return
	}
	clear(buf[n:])
	if n < chunkSize {
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("truncated chunk (%d of %d bytes)", n, chunkSize)})
	}
	b := buf
	if !bytes.Equal(b[:8], chunkMagic) {
		if allZero(b) {
			return // unused chunk slot
		}
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: errors.New("bad chunk signature")})
		return
	}
	le := binary.LittleEndian
	crc := crc32.Update(crc32.ChecksumIEEE(b[:120]), crc32.IEEETable, b[128:512])
	if stored := le.Uint32(b[124:]); stored != crc && !r.noVerify {
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("chunk header checksum mismatch (stored %#08x, computed %#08x)", stored, crc)})
		return
	}
	free := int(le.Uint32(b[48:]))
	if free < chunkHdrSize || free > chunkSize {
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("bad free space offset %#x", free)})
		return
	}
	r.checkRecords(i, off, free)
	r.cur, r.free, r.pos = i, free, chunkHdrSize
	r.st.p.reset(b)
}

// checkRecords verifies the event records checksum of chunk i.
func (r *Reader) checkRecords(i int, off int64, free int) {
	b := r.st.buf
	if stored, crc := binary.LittleEndian.Uint32(b[52:]), crc32.ChecksumIEEE(b[chunkHdrSize:free]); stored != crc && !r.noVerify {
		// The header is sound: report, then still read the records, each of
		// which is checked on its own.
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("event records checksum mismatch (stored %#08x, computed %#08x)", stored, crc)})
	}
}

// loadRecords completes the load of chunk i, whose header is in the buffer,
// by reading its records only. It returns false, having queued nothing, when
// the chunk needs the whole-chunk path (no signature, bad header, short read),
// which then reports exactly what it always did.
func (r *Reader) loadRecords(i int, off int64) bool {
	b := r.st.buf
	if !bytes.Equal(b[:8], chunkMagic) {
		return false
	}
	le := binary.LittleEndian
	crc := crc32.Update(crc32.ChecksumIEEE(b[:120]), crc32.IEEETable, b[128:512])
	if le.Uint32(b[124:]) != crc && !r.noVerify {
		return false
	}
	free := int(le.Uint32(b[48:]))
	avail := r.size - off // bytes of this chunk slot in the file
	if free < chunkHdrSize || free > chunkSize || int64(free) > avail {
		return false
	}
	if n, err := r.r.ReadAt(b[chunkHdrSize:free], off+chunkHdrSize); n < free-chunkHdrSize || err != nil && err != io.EOF {
		return false
	}
	if avail < chunkSize {
		r.pending = append(r.pending, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: fmt.Errorf("truncated chunk (%d of %d bytes)", avail, chunkSize)})
	}
	r.checkRecords(i, off, free)
	r.cur, r.free, r.pos = i, free, chunkHdrSize
	r.tailOff, r.tailEnd = off, int(min(avail, chunkSize))
	r.st.p.reset(b[:free])
	r.st.p.tail = r
	return true
}

// readTail reads the rest of the current chunk, past its records, for the
// parser: the buffer then holds what a whole-chunk read would have (zeros
// past the end of a truncated file). An I/O error is fatal (see nextRecord).
func (r *Reader) readTail() []byte {
	b := r.st.buf
	n, err := r.r.ReadAt(b[r.free:r.tailEnd], r.tailOff+int64(r.free))
	if err != nil && err != io.EOF {
		r.tailErr = fmt.Errorf("%s: reading chunk %d: %w", r.name, r.cur, err)
		return b[:r.free]
	}
	clear(b[r.free+n:])
	return b
}

// zeroChunk is compared against: bytes.Equal is vectorised, a byte loop is
// not, and unused chunk slots make up much of many files.
var zeroChunk [chunkSize]byte

func allZero(b []byte) bool {
	for len(b) > chunkSize {
		if !bytes.Equal(b[:chunkSize], zeroChunk[:]) {
			return false
		}
		b = b[chunkSize:]
	}
	return bytes.Equal(b, zeroChunk[:len(b)])
}

// nextRecord decodes the record at r.pos. It returns (nil, nil) when the chunk
// is exhausted.
func (r *Reader) nextRecord() (*Record, error) {
	b := r.st.buf
	le := binary.LittleEndian
	pos := r.pos
	fileOff := int64(fileHeaderSize) + int64(r.cur)*chunkSize + int64(pos)
	if le.Uint32(b[pos:]) != recordMagic {
		if allZero(b[pos:r.free]) {
			r.pos = r.free
			return nil, nil
		}
		r.pos = r.free // cannot resynchronise reliably: skip the rest of the chunk
		return nil, &RecordError{File: r.name, Chunk: r.cur, Offset: fileOff, Err: errors.New("bad record signature; rest of chunk skipped")}
	}
	size := int(le.Uint32(b[pos+4:]))
	id := le.Uint64(b[pos+8:])
	if size < recordHdrSize+4 || pos+size > r.free {
		r.pos = r.free
		return nil, &RecordError{File: r.name, Chunk: r.cur, Offset: fileOff, ID: id, Err: fmt.Errorf("bad record size %d; rest of chunk skipped", size)}
	}
	r.pos = pos + size
	if copySize := int(le.Uint32(b[pos+size-4:])); copySize != size {
		return nil, &RecordError{File: r.name, Chunk: r.cur, Offset: fileOff, ID: id, Err: fmt.Errorf("record size %d and trailing copy %d differ", size, copySize)}
	}
	root, err := r.st.p.parseRecord(pos+recordHdrSize, pos+size-4)
	if r.tailErr != nil {
		r.fatal, r.tailErr = r.tailErr, nil
		r.release()
		return nil, r.fatal
	}
	if err != nil {
		return nil, &RecordError{File: r.name, Chunk: r.cur, Offset: fileOff, ID: id, Err: err}
	}
	r.nrecords++
	rec := Record{ID: id, Time: FileTime(le.Uint64(b[pos+16:])), Root: root, Chunk: r.cur, Offset: fileOff}
	if r.Reuse {
		r.st.rec = rec
		return &r.st.rec, nil
	}
	return rec.Clone(), nil
}

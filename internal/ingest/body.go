package ingest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

var (
	errTooLarge = errors.New("payload too large")
	errEncoding = errors.New("unsupported content encoding")
)

// bodyBuffers are the reusable buffers of one request: the body as received
// and, when compressed, inflated.
type bodyBuffers struct {
	raw, plain bytes.Buffer
}

func (h *Handler) getBuffers() *bodyBuffers {
	if b, ok := h.buffers.Get().(*bodyBuffers); ok {
		b.raw.Reset()
		b.plain.Reset()
		return b
	}
	return &bodyBuffers{}
}

// maxPooledBuffer is the largest buffer kept for reuse; larger ones (from
// big /batch uploads) are left to the garbage collector.
const maxPooledBuffer = 4 << 20

func (h *Handler) putBuffers(b *bodyBuffers) {
	if b.raw.Cap() > maxPooledBuffer || b.plain.Cap() > maxPooledBuffer {
		return
	}
	h.buffers.Put(b)
}

// readLimited reads r into buf, failing with errTooLarge beyond limit bytes.
func readLimited(buf *bytes.Buffer, r io.Reader, limit int64) error {
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return errTooLarge
	}
	return nil
}

// readBody reads the request body, inflating gzip and deflate encodings.
// Both the received and the inflated size are held to limit, so a
// compression bomb stops at limit bytes. The returned bytes live in bufs;
// rawSize is the size as received.
func readBody(r *http.Request, limit int64, bufs *bodyBuffers) (body []byte, rawSize int, err error) {
	if r.ContentLength > limit {
		return nil, 0, errTooLarge
	}
	if err := readLimited(&bufs.raw, r.Body, limit); err != nil {
		return nil, 0, err
	}
	rawSize = bufs.raw.Len()
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	var zr io.ReadCloser
	switch enc {
	case "", "identity":
		return bufs.raw.Bytes(), rawSize, nil
	case "gzip", "x-gzip":
		zr, err = gzip.NewReader(&bufs.raw)
	case "deflate":
		zr, err = zlib.NewReader(&bufs.raw)
	default:
		return nil, rawSize, errEncoding
	}
	if err != nil {
		return nil, rawSize, fmt.Errorf("inflate body: %w", err)
	}
	defer zr.Close()
	if err := readLimited(&bufs.plain, zr, limit); err != nil {
		return nil, rawSize, err
	}
	return bufs.plain.Bytes(), rawSize, nil
}

package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/wal"
)

// Sink writes accepted batches to the WAL; Write returns once the batch is
// fsynced, which is what lets ingestion answer 200.
type Sink struct {
	log  *wal.Log
	bufs sync.Pool
}

// NewSink returns a Sink that appends to log.
func NewSink(log *wal.Log) *Sink {
	return &Sink{log: log, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}}
}

// Write encodes b and appends it to the WAL as one record.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	_, err := s.Append(ctx, b)
	return err
}

// Append is Write that also returns the WAL position just past the record.
func (s *Sink) Append(ctx context.Context, b *event.Batch) (uint64, error) {
	bp := s.bufs.Get().(*[]byte)
	rec := event.AppendBatch((*bp)[:0], b)
	end, err := s.log.Append(ctx, rec)
	*bp = rec
	s.bufs.Put(bp)
	if err != nil {
		return 0, fmt.Errorf("append to wal: %w", err)
	}
	return end, nil
}

// Package wal implements Crest's write-ahead log: an append-only, segmented,
// checksummed log with group commit.
//
// Ingestion appends encoded batches with [Log.Append], which returns only
// after the record is fsynced; many concurrent appenders share one write and
// one fsync per round. The pipeline tails the log with a [Reader], waits for
// more with [Log.Wait], and deletes applied segments with [Log.RemoveBefore].
//
// The on-disk format and the recovery rules are specified in
// docs/format/wal.md. All file access goes through [FS], so tests can
// simulate crashes that drop unsynced writes.
package wal

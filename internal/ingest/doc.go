// Package ingest serves Crest's Amplitude-compatible ingestion endpoints:
// HTTP V2 (/2/httpapi), batch (/batch), identify (/identify), group
// identify (/groupidentify) and the legacy SDK root upload (POST /).
//
// It decodes, validates and enriches requests and answers them with
// Amplitude's status codes and bodies. It knows nothing of storage or the
// WAL: accepted batches go to a Sink, and a request is answered 200 only
// after the Sink reports the batch durable. A request answered with an
// error stores nothing. See docs/ingestion.md for the behaviour in detail.
package ingest

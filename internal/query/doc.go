// Package query holds Crest's analyses as typed, versioned definitions
// (JSON on the wire), validates them, compiles them to SQL through a
// Dialect, runs the SQL through a Querier and returns one result model
// (Result) that both the native API and the Amplitude-compatible
// Dashboard API render.
//
// The package knows no storage driver: a backend hands it a Querier (its
// QueryContext method) and the Dialect that speaks its SQL. Every
// generated statement starts with a comment naming the code that made it,
// e.g. /* query.Segmentation */.
//
// Definitions follow the Amplitude semantics of
// shared/spec/amplitude-compat.md §3–§5: unique users are distinct
// canonical Amplitude IDs (an anonymous id merged into a user, and not
// undone, counts as that user), user properties are read from the
// snapshot stored with each event, and day, week, month and quarter
// boundaries are those of the project's IANA time zone. docs/query.md
// describes the design and the definitions as implemented.
package query

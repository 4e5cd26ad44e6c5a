// Package identity turns an event's (device_id, user_id) into a canonical
// Amplitude ID by Amplitude's rules, records anonymous-to-user merges,
// keeps the current user and group property tables (applying $set,
// $setOnce, $add, ... in Amplitude's order), gives each stored event the
// snapshot of its user's properties as of that event, and collects
// per-session partial aggregates. It is pure in-memory logic: the pipeline
// calls Process in WAL order, Drain hands the changed rows to storage, and
// the Load methods rebuild the state on start. See docs/identity.md.
package identity

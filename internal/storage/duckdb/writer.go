package duckdb

import (
	"database/sql"
	"errors"
	"reflect"
	"time"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"
)

// The writer's statements, run without busy waiting.
//
// DuckDB runs a statement on the calling thread and its worker threads.
// An INSERT fed by crest_src is a single task; when a worker takes it,
// the calling thread has nothing to do, and DuckDB's execution loop
// (duckdb_execute_pending, which duckdb-go calls) polls for work without
// sleeping until the worker is done (DuckDB issue 22178). On a 2-core
// machine that spinning thread took CPU from the worker, from ingestion
// and from queries: Apply used 1.2-1.5x the CPU with 2 DuckDB threads as
// with 1, for the same wall time. writerExec drives the statement itself
// through DuckDB's pending-result API instead, working on tasks while
// there are any and sleeping (20 µs, doubling to 1 ms) while only other
// threads have work.

// rawConn is the DuckDB connection handle behind duckdb-go's connection
// c, read from its unexported state; ok is false if that state does not
// have the expected shape (a duckdb-go upgrade), and the writer then
// runs its statements through database/sql.
func rawConn(c *sql.Conn) (h mapping.Connection, ok bool) {
	err := c.Raw(func(dc any) error {
		v := reflect.ValueOf(dc)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return errNoHandle
		}
		f := v.Elem().FieldByName("conn")
		if !f.IsValid() || f.Type() != reflect.TypeFor[mapping.Connection]() || !f.CanAddr() {
			return errNoHandle
		}
		h = *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr()))
		if h.Ptr == nil {
			return errNoHandle
		}
		return nil
	})
	return h, err == nil
}

var errNoHandle = errors.New("no DuckDB connection handle")

// writerExec runs query (no parameters, no result rows wanted) on the
// connection h, inside whatever transaction h has open.
func writerExec(h mapping.Connection, query string) error {
	var stmt mapping.PreparedStatement
	if mapping.Prepare(h, query, &stmt) == mapping.StateError {
		err := errors.New(mapping.PrepareError(stmt))
		mapping.DestroyPrepare(&stmt)
		return err
	}
	defer mapping.DestroyPrepare(&stmt)
	var pending mapping.PendingResult
	if mapping.PendingPrepared(stmt, &pending) == mapping.StateError {
		err := errors.New(mapping.PendingError(pending))
		mapping.DestroyPending(&pending)
		return err
	}
	defer mapping.DestroyPending(&pending)
	const minWait, maxWait = 20 * time.Microsecond, time.Millisecond
	wait := minWait
loop:
	for {
		switch mapping.PendingExecuteTask(pending) {
		case mapping.PendingStateResultReady:
			break loop
		case mapping.PendingStateError:
			return errors.New(mapping.PendingError(pending))
		case mapping.PendingStateNoTasksAvailable:
			time.Sleep(wait)
			wait = min(2*wait, maxWait)
		default:
			wait = minWait
		}
	}
	var res mapping.Result
	state := mapping.ExecutePending(pending, &res)
	defer mapping.DestroyResult(&res)
	if state == mapping.StateError {
		return errors.New(mapping.ResultError(&res))
	}
	return nil
}

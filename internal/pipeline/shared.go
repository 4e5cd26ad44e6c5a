package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/storage"
	"github.com/crest-analytics/crest/internal/wal"
)

// sharedState is the pipeline's side of a shared identity map.
type sharedState struct {
	m identity.SharedMap

	// Owned by the reader goroutine (build).
	plan identity.Plan
	segs []segment
	refs []identity.UserRef

	// Owned by the applier goroutine: rows whose Publish failed, sent
	// again with the next unit.
	unpublished []storage.User
}

// segment is one decoded WAL record of a unit: its header and the range
// of its events in Unit.Events.
type segment struct {
	hdr        event.Batch
	start, end int
}

// buildShared is build with a shared identity map: it decodes the unit's
// records first, claims the user_ids the Resolver does not know and
// refreshes the identified users the unit touches (prepare), and only then
// dedups and resolves the events, record by record, in WAL order.
func (p *Pipeline) buildShared(ctx context.Context, r *wal.Reader) (*storage.Unit, error) {
	s := p.shared
	u := &storage.Unit{}
	select {
	case u.Events = <-p.free:
	default:
		u.Events = make([]event.Event, 0, p.opts.MaxUnitEvents+2000)
	}
	s.segs = s.segs[:0]
	records := 0
	for len(u.Events) < p.opts.MaxUnitEvents {
		rec, end, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read wal: %w", err)
		}
		records++
		u.Position = end
		start := len(u.Events)
		var hdr event.Batch
		u.Events, err = event.DecodeBatchAppend(rec, &hdr, u.Events)
		if err != nil {
			p.logger.Error("undecodable wal record skipped", "end", end, "err", err)
			u.Events = u.Events[:start]
			continue
		}
		hdr.Events = nil
		s.segs = append(s.segs, segment{hdr: hdr, start: start, end: len(u.Events)})
	}
	if records == 0 {
		p.recycle(u)
		return nil, nil
	}
	if err := p.prepare(ctx, u.Events); err != nil {
		return nil, err
	}
	all, w := u.Events, 0
	for i := range s.segs {
		sg := &s.segs[i]
		u.Events = all
		w = len(p.process(&sg.hdr, u, sg.start, sg.end, w))
	}
	u.Events = all[:w]
	p.finish(u)
	return u, nil
}

// prepare claims the unit's new user_ids in the shared map, pins the
// winners in the Resolver and refreshes the identified users the unit
// touches from other nodes' newer rows. A failing shared map is retried
// until ctx ends: processing the unit without its claims could give one
// user_id two amplitude_ids.
func (p *Pipeline) prepare(ctx context.Context, evs []event.Event) error {
	s := p.shared
	s.plan.Reset()
	for _, sg := range s.segs {
		if sg.hdr.Kind == event.KindEvents || sg.hdr.Kind == event.KindIdentify {
			p.res.Plan(&s.plan, evs[sg.start:sg.end])
		}
	}
	s.refs = append(s.refs[:0], s.plan.Touched...)
	if len(s.plan.Claims) == 0 && len(s.refs) == 0 {
		return nil
	}
	return retry(ctx, p.logger, "shared identity map", func(ctx context.Context) error {
		if len(s.plan.Claims) > 0 {
			if err := s.m.Claim(ctx, s.plan.Claims); err != nil {
				return fmt.Errorf("claim user ids: %w", err)
			}
			p.res.Pin(s.plan.Claims)
			s.refs = s.refs[:len(s.plan.Touched)]
			for _, c := range s.plan.Claims {
				if c.AmplitudeID != c.Proposed {
					// Another node's user (or this node's claim before a
					// crash): its row may be shared already.
					s.refs = append(s.refs, identity.UserRef{ProjectID: c.ProjectID, AmplitudeID: c.AmplitudeID})
				}
			}
		}
		if len(s.refs) == 0 {
			return nil
		}
		rows, err := s.m.Refresh(ctx, s.refs)
		if err != nil {
			return fmt.Errorf("refresh users: %w", err)
		}
		for i := range rows {
			p.res.Refresh(&rows[i])
		}
		return nil
	})
}

// publish stores the identified users of an applied unit in the shared
// map, so other nodes continue from them. A failure is logged and the rows
// go again with the next unit: the unit itself is applied already.
func (s *sharedState) publish(ctx context.Context, u *storage.Unit, logger *slog.Logger) {
	rows := s.unpublished
	for _, x := range u.Users {
		if x.UserID != "" {
			rows = append(rows, x)
		}
	}
	if len(rows) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.m.Publish(cctx, rows); err != nil {
		logger.Warn("publish users to the shared identity map; retried with the next unit", "users", len(rows), "err", err)
		s.unpublished = rows
		return
	}
	s.unpublished = s.unpublished[:0]
}

// retry calls f until it succeeds, backing off up to 5 s between
// attempts, or returns its last error once ctx has ended.
func retry(ctx context.Context, logger *slog.Logger, what string, f func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := f(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		logger.Warn(what+" failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

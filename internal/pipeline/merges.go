package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/crest-analytics/crest/internal/event"
	"github.com/crest-analytics/crest/internal/identity"
	"github.com/crest-analytics/crest/internal/storage"
)

// ErrNoMerge is returned by UndoMerge for an id that was never merged.
var ErrNoMerge = identity.ErrNoMerge

// Merges returns the merges into or from an Amplitude ID of a project.
func (p *Pipeline) Merges(projectID, amplitudeID int64) []storage.Merge {
	return p.res.Merges(projectID, amplitudeID)
}

// UndoMerge undoes the merge of the anonymous Amplitude ID from: at query
// time it is its own user again. The undo travels through the WAL like an
// event, so it is durable and ordered with the events around it; UndoMerge
// returns once it is applied to storage.
func (p *Pipeline) UndoMerge(ctx context.Context, sink *Sink, projectID, from int64) (storage.Merge, error) {
	if _, ok := p.mergeFrom(projectID, from); !ok {
		return storage.Merge{}, fmt.Errorf("amplitude id %d: %w", from, ErrNoMerge)
	}
	end, err := sink.Append(ctx, &event.Batch{
		ProjectID: projectID, Kind: event.KindUndoMerge,
		Events: []event.Event{{ProjectID: projectID, AmplitudeID: from, SessionID: event.NoSession, EventID: event.NoEventID}},
	})
	if err != nil {
		return storage.Merge{}, err
	}
	if err := p.WaitApplied(ctx, end); err != nil {
		return storage.Merge{}, fmt.Errorf("wait for the undo to apply: %w", err)
	}
	m, ok := p.mergeFrom(projectID, from)
	if !ok {
		return storage.Merge{}, errors.New("BUG: merge vanished after its undo")
	}
	return m, nil
}

func (p *Pipeline) mergeFrom(projectID, from int64) (storage.Merge, bool) {
	for _, m := range p.res.Merges(projectID, from) {
		if m.FromID == from {
			return m, true
		}
	}
	return storage.Merge{}, false
}

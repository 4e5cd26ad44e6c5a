package analytics

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/crest-analytics/crest/internal/api"
	"github.com/crest-analytics/crest/internal/query"
)

// pointUsersRequest is the body of POST .../query/users: a segmentation,
// funnel or retention definition (as POST .../query takes), one of its
// data points (query.Point, query.FunnelPoint or query.RetentionPoint by
// the definition's type), and the page wanted.
type pointUsersRequest struct {
	Definition json.RawMessage `json:"definition"`
	Point      json.RawMessage `json:"point"`
	Limit      int             `json:"limit"`
	Offset     int             `json:"offset"`
}

// pointUsers lists the users behind one data point of a segmentation
// chart (query.Engine.UsersAtPoint), one bar of a funnel
// (FunnelUsers) or one cell of a retention chart (RetentionUsers).
func (h *handlers) pointUsers(r *http.Request, p query.Project) (any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDefinition+1))
	if err != nil {
		return nil, api.BadRequest("read body: %v", err)
	}
	if len(body) > maxDefinition {
		return nil, api.BadRequest("body larger than %d bytes", maxDefinition)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req pointUsersRequest
	if err := dec.Decode(&req); err != nil {
		return nil, api.BadRequest("invalid body: %v", err)
	}
	if len(req.Definition) == 0 {
		return nil, api.BadRequest("definition: missing")
	}
	if len(req.Point) == 0 || string(req.Point) == "null" {
		return nil, api.BadRequest("point: missing")
	}
	ctx, now, eng := r.Context(), h.d.Now(), h.d.Engine
	switch query.AnalysisType(req.Definition) {
	case query.TypeFunnel:
		f, err := query.ParseFunnel(req.Definition)
		if err != nil {
			return nil, definitionErr(err)
		}
		var pt query.FunnelPoint
		if err := decodePoint(req.Point, &pt); err != nil {
			return nil, err
		}
		return eng.FunnelUsers(ctx, p, f, pt, req.Limit, req.Offset, now)
	case query.TypeRetention:
		rd, err := query.ParseRetention(req.Definition)
		if err != nil {
			return nil, definitionErr(err)
		}
		var pt query.RetentionPoint
		if err := decodePoint(req.Point, &pt); err != nil {
			return nil, err
		}
		return eng.RetentionUsers(ctx, p, rd, pt, req.Limit, req.Offset, now)
	}
	s, err := query.ParseSegmentation(req.Definition)
	if err != nil {
		return nil, definitionErr(err)
	}
	var pt query.Point
	if err := decodePoint(req.Point, &pt); err != nil {
		return nil, err
	}
	return eng.UsersAtPoint(ctx, p, s, pt, req.Limit, req.Offset, now)
}

// decodePoint decodes the point of the definition's type, rejecting
// unknown fields.
func decodePoint(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.BadRequest("point: %v", err)
	}
	return nil
}

// definitionErr puts a definition's field errors under "definition".
func definitionErr(err error) error {
	var fe *query.FieldError
	if errors.As(err, &fe) {
		f := "definition"
		if fe.Field != "" {
			f += "." + fe.Field
		}
		return &query.FieldError{Field: f, Message: fe.Message}
	}
	return err
}

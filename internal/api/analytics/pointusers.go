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

// pointUsersRequest is the body of POST .../query/users: a segmentation
// definition (as POST .../query takes), one of its data points, and the
// page wanted.
type pointUsersRequest struct {
	Definition json.RawMessage `json:"definition"`
	Point      *query.Point    `json:"point"`
	Limit      int             `json:"limit"`
	Offset     int             `json:"offset"`
}

// pointUsers lists the users behind one data point of a segmentation
// chart (query.Engine.UsersAtPoint).
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
	if req.Point == nil {
		return nil, api.BadRequest("point: missing")
	}
	s, err := query.ParseSegmentation(req.Definition)
	if err != nil {
		var fe *query.FieldError
		if errors.As(err, &fe) {
			f := "definition"
			if fe.Field != "" {
				f += "." + fe.Field
			}
			return nil, &query.FieldError{Field: f, Message: fe.Message}
		}
		return nil, err
	}
	return h.d.Engine.UsersAtPoint(r.Context(), p, s, *req.Point, req.Limit, req.Offset, h.d.Now())
}

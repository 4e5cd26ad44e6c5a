package ingest

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// maxGroupIdentifications caps the identifications of one /groupidentify
// request (spec §1.7).
const maxGroupIdentifications = 1024

// Plain-text answers of the form-style endpoints (identify, group
// identify, legacy upload).
const (
	textSuccess       = "success"
	textInvalidAPIKey = "invalid_api_key"
	textMissingEvent  = "missing_event"
	textInvalidEvent  = "invalid_event"
	textTooLarge      = "payload_too_large"
	textWriteFailed   = "request_db_write_failed"
	textBadChecksum   = "bad_checksum"
	textBadRequest    = "bad_request"
)

// textError is a request failure of a form-style endpoint.
type textError struct {
	code int
	body string
}

// readForm reads a form-style request's parameters, answering the failure
// itself; ok is false when it did.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, bufs *bodyBuffers) (url.Values, int, bool) {
	body, rawSize, err := readBody(r, h.opts.MaxHTTPAPIBytes, bufs)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			writeText(w, http.StatusRequestEntityTooLarge, textTooLarge)
		} else {
			writeText(w, http.StatusBadRequest, textBadRequest)
		}
		return nil, 0, false
	}
	vals, err := h.formValues(r, body)
	if err != nil {
		writeText(w, http.StatusBadRequest, textBadRequest)
		return nil, 0, false
	}
	return vals, rawSize, true
}

// project resolves the api key, answering failures itself.
func (h *Handler) project(w http.ResponseWriter, r *http.Request, key string) (Project, bool) {
	if key == "" {
		writeText(w, http.StatusBadRequest, textInvalidAPIKey)
		return Project{}, false
	}
	proj, ok, err := h.projects.ProjectByAPIKey(r.Context(), key)
	if err != nil {
		h.logger.Warn("ingest project lookup failed", "err", err)
		writeText(w, http.StatusServiceUnavailable, textWriteFailed)
		return Project{}, false
	}
	if !ok {
		writeText(w, http.StatusBadRequest, textInvalidAPIKey)
		return Project{}, false
	}
	return proj, true
}

// identifications parses an identification parameter: a JSON object or a
// non-empty array of objects.
func identifications(p *fastjson.Parser, s string, maxN int) ([]*fastjson.Value, *textError) {
	if s == "" {
		return nil, &textError{http.StatusBadRequest, textMissingEvent}
	}
	v, err := p.Parse(s)
	if err != nil {
		return nil, &textError{http.StatusBadRequest, textMissingEvent}
	}
	var list []*fastjson.Value
	switch v.Type() {
	case fastjson.TypeObject:
		list = []*fastjson.Value{v}
	case fastjson.TypeArray:
		list, _ = v.Array()
	default:
		return nil, &textError{http.StatusBadRequest, textMissingEvent}
	}
	if len(list) == 0 {
		return nil, &textError{http.StatusBadRequest, textMissingEvent}
	}
	if len(list) > maxN {
		return nil, &textError{http.StatusRequestEntityTooLarge, textTooLarge}
	}
	for _, it := range list {
		if it.Type() != fastjson.TypeObject {
			return nil, &textError{http.StatusBadRequest, textMissingEvent}
		}
	}
	return list, nil
}

// decodeIdentify turns identification objects into $identify events.
func decodeIdentify(list []*fastjson.Value, e env) ([]event.Event, problems) {
	d := newEventDecoder(e, modeIdentify, 1024)
	events := make([]event.Event, len(list))
	for i, v := range list {
		ev := &events[i]
		d.decodeEvent(v, i, ev)
		ev.EventType = event.TypeIdentify
		ev.ClientEventTime, ev.Time = e.now, e.now
		ev.SessionID, ev.EventID = event.NoSession, event.NoEventID
	}
	return events, d.probs
}

// decodeGroupIdentify turns {group_type, group_value, group_properties}
// objects into $groupidentify events.
func decodeGroupIdentify(list []*fastjson.Value, e env) ([]event.Event, bool) {
	a := newArena(1024)
	events := make([]event.Event, len(list))
	for i, v := range list {
		gt, gv := v.Get("group_type"), v.Get("group_value")
		if gt == nil || gt.Type() != fastjson.TypeString || len(gt.GetStringBytes()) == 0 || gv == nil {
			return nil, false
		}
		start := a.mark(64)
		a.buf = append(a.buf, '{')
		a.buf = appendQuoted(a.buf, b2s(gt.GetStringBytes()))
		a.buf = append(a.buf, ':')
		switch gv.Type() {
		case fastjson.TypeString:
			if len(gv.GetStringBytes()) == 0 {
				return nil, false
			}
			a.buf = appendQuoted(a.buf, b2s(gv.GetStringBytes()))
		case fastjson.TypeNumber: // a number names the group by its text
			n := len(a.buf)
			a.buf = gv.MarshalTo(a.buf)
			num := string(a.buf[n:])
			if !validNumber(num) {
				return nil, false
			}
			a.buf = appendQuoted(a.buf[:n], num)
		default:
			return nil, false
		}
		a.buf = append(a.buf, '}')
		ev := &events[i]
		*ev = event.Event{
			EventType: event.TypeGroupIdentify, Groups: a.bytesFrom(start),
			Time: e.now, ClientEventTime: e.now, ServerReceivedTime: e.now, ServerUploadTime: e.now,
			SessionID: event.NoSession, EventID: event.NoEventID,
		}
		if gp := v.Get("group_properties"); gp != nil && gp.Type() != fastjson.TypeNull {
			if gp.Type() != fastjson.TypeObject {
				return nil, false
			}
			start := a.mark(256)
			var ok bool
			if a.buf, ok = appendJSON(a.buf, gp, 1); !ok {
				return nil, false
			}
			ev.GroupProperties = a.bytesFrom(start)
		}
	}
	return events, true
}

// serveIdentify serves /identify (GET and POST).
func (h *Handler) serveIdentify(w http.ResponseWriter, r *http.Request) {
	allowOrigin(w, r)
	bufs := h.getBuffers()
	defer h.putBuffers(bufs)
	vals, _, ok := h.readForm(w, r, bufs)
	if !ok {
		return
	}
	proj, ok := h.project(w, r, vals.Get("api_key"))
	if !ok {
		return
	}
	e := env{now: h.opts.Now().UnixMilli(), clientIP: h.clientIP(r)}
	p := h.parsers.Get()
	defer h.parsers.Put(p)
	list, terr := identifications(p, vals.Get("identification"), h.opts.MaxEvents)
	if terr != nil {
		writeText(w, terr.code, terr.body)
		return
	}
	events, probs := decodeIdentify(list, e)
	if !probs.empty() {
		writeText(w, http.StatusBadRequest, textInvalidEvent)
		return
	}
	if !h.accept(w, r, proj, event.KindIdentify, e.now, events) {
		writeText(w, http.StatusServiceUnavailable, textWriteFailed)
		return
	}
	writeText(w, http.StatusOK, textSuccess)
}

// serveGroupIdentify serves /groupidentify.
func (h *Handler) serveGroupIdentify(w http.ResponseWriter, r *http.Request) {
	allowOrigin(w, r)
	bufs := h.getBuffers()
	defer h.putBuffers(bufs)
	vals, _, ok := h.readForm(w, r, bufs)
	if !ok {
		return
	}
	proj, ok := h.project(w, r, vals.Get("api_key"))
	if !ok {
		return
	}
	e := env{now: h.opts.Now().UnixMilli(), clientIP: h.clientIP(r)}
	p := h.parsers.Get()
	defer h.parsers.Put(p)
	list, terr := identifications(p, vals.Get("identification"), maxGroupIdentifications)
	if terr != nil {
		writeText(w, terr.code, terr.body)
		return
	}
	events, ok := decodeGroupIdentify(list, e)
	if !ok {
		writeText(w, http.StatusBadRequest, textInvalidEvent)
		return
	}
	if !h.accept(w, r, proj, event.KindGroupIdentify, e.now, events) {
		writeText(w, http.StatusServiceUnavailable, textWriteFailed)
		return
	}
	writeText(w, http.StatusOK, textSuccess)
}

package ingest

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// legacyChecksumOK checks the legacy upload's checksum: lowercase hex MD5
// of v + client + e + upload_time. A missing checksum is accepted.
func legacyChecksumOK(v, client, e, uploadTime, checksum string) bool {
	if checksum == "" {
		return true
	}
	sum := md5.Sum([]byte(v + client + e + uploadTime))
	return strings.EqualFold(hex.EncodeToString(sum[:]), checksum)
}

// decodeLegacy decodes the legacy e parameter: a JSON array of events.
// Events that fail validation are dropped (the legacy protocol cannot name
// them); ok is false when e is not an array.
func decodeLegacy(p *fastjson.Parser, e string, en env, uploadTime int64, maxEvents int) (events []event.Event, fail *textError) {
	v, err := p.Parse(e)
	if err != nil || v.Type() != fastjson.TypeArray {
		return nil, &textError{http.StatusBadRequest, textMissingEvent}
	}
	arr, _ := v.Array()
	if len(arr) > maxEvents {
		return nil, &textError{http.StatusRequestEntityTooLarge, textTooLarge}
	}
	d := newEventDecoder(en, modeLegacy, len(e))
	events = make([]event.Event, 0, len(arr))
	untimed := make([]bool, 0, len(arr))
	for i, ev := range arr {
		events = append(events, event.Event{})
		d.decodeEvent(ev, i, &events[len(events)-1])
		if !d.probs.empty() {
			d.probs = problems{}
			events = events[:len(events)-1]
			if i < len(d.untimed) {
				d.untimed[i] = false
			}
			continue
		}
		untimed = append(untimed, i < len(d.untimed) && d.untimed[i])
		if last := &events[len(events)-1]; last.IP == "" {
			last.IP = en.clientIP
		}
	}
	correctSkew(events, untimed, uploadTime, en.now)
	return events, nil
}

// serveLegacy serves the legacy SDK upload, POST /.
func (h *Handler) serveLegacy(w http.ResponseWriter, r *http.Request) {
	allowOrigin(w, r)
	bufs := h.getBuffers()
	defer h.putBuffers(bufs)
	vals, _, ok := h.readForm(w, r, bufs)
	if !ok {
		return
	}
	client, e := vals.Get("client"), vals.Get("e")
	if !legacyChecksumOK(vals.Get("v"), client, e, vals.Get("upload_time"), vals.Get("checksum")) {
		writeText(w, http.StatusBadRequest, textBadChecksum)
		return
	}
	proj, ok := h.project(w, r, client)
	if !ok {
		return
	}
	en := env{now: h.opts.Now().UnixMilli(), clientIP: h.clientIP(r)}
	var uploadTime int64
	if n, err := strconv.ParseInt(vals.Get("upload_time"), 10, 64); err == nil && n > 0 {
		uploadTime = n
	}
	p := h.parsers.Get()
	events, fail := decodeLegacy(p, e, en, uploadTime, h.opts.MaxEvents)
	h.parsers.Put(p)
	if fail != nil {
		writeText(w, fail.code, fail.body)
		return
	}
	if len(events) > 0 && !h.accept(w, r, proj, event.KindEvents, en.now, events) {
		writeText(w, http.StatusServiceUnavailable, textWriteFailed)
		return
	}
	writeText(w, http.StatusOK, textSuccess)
}

package ingest

import (
	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// upload is a decoded /2/httpapi or /batch request.
type upload struct {
	apiKey string
	events []event.Event
	probs  problems
}

// decodeUpload decodes and validates an HTTP V2 / batch body. A non-nil
// answer is a request-level failure (bad JSON, missing field, too many
// events); otherwise u.probs lists the failing events, if any, and the
// events carry their times (skew corrected) and client address. The API
// key is not checked here.
func decodeUpload(p *fastjson.Parser, body []byte, e env, maxEvents int) (u upload, fail *answer) {
	v, err := p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return u, &answer{Code: 400, Error: "Invalid JSON request body"}
	}
	key := v.Get("api_key")
	if key == nil || key.Type() != fastjson.TypeString || len(key.GetStringBytes()) == 0 {
		return u, &answer{Code: 400, Error: "Request missing required field", MissingField: "api_key"}
	}
	evs := v.Get("events")
	if evs == nil || evs.Type() != fastjson.TypeArray {
		return u, &answer{Code: 400, Error: "Request missing required field", MissingField: "events"}
	}
	arr, _ := evs.Array()
	if len(arr) > maxEvents {
		return u, tooLarge()
	}
	d := newEventDecoder(e, modeHTTPAPI, len(body))
	u.apiKey = string(key.GetStringBytes())
	if n, ok := minIDLength(v.Get("options", "min_id_length")); ok {
		d.minIDLen = n
	}
	u.events = make([]event.Event, len(arr))
	for i, ev := range arr {
		d.decodeEvent(ev, i, &u.events[i])
	}
	correctSkew(u.events, d.untimed, parseUploadTime(v.Get("client_upload_time")), e.now)
	u.probs = d.probs
	return u, nil
}

// minIDLength reads options.min_id_length: a non-negative integer.
// Anything else leaves the default.
func minIDLength(v *fastjson.Value) (int, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	f, err := v.Float64()
	if err != nil || f < 0 || f > 1<<20 || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// answer is an ingestion reply in Amplitude's JSON shape; Code is also the
// HTTP status.
type answer struct {
	Code            int              `json:"code"`
	Error           string           `json:"error,omitempty"`
	MissingField    string           `json:"missing_field,omitempty"`
	InvalidFields   map[string][]int `json:"events_with_invalid_fields,omitempty"`
	MissingFields   map[string][]int `json:"events_with_missing_fields,omitempty"`
	InvalidIDLength map[string][]int `json:"events_with_invalid_id_lengths,omitempty"`
}

func tooLarge() *answer { return &answer{Code: 413, Error: "Payload too large"} }

func invalidAPIKey(key string) *answer {
	return &answer{Code: 400, Error: "Invalid API key: " + key}
}

func unavailable() *answer {
	return &answer{Code: 503, Error: "Service unavailable, retry later"}
}

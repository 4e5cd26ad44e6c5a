package ingest

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/crest-analytics/crest/internal/event"
)

// defaultMinIDLength is the shortest accepted user_id/device_id unless the
// request's options.min_id_length says otherwise (spec §1.2).
const defaultMinIDLength = 5

// remoteIP is the ip value meaning "the request's source address".
const remoteIP = "$remote"

// blockedID reports whether id is one of the id values Amplitude refuses
// (spec §1.2); the comparison is exact and case-sensitive.
func blockedID(id string) bool {
	switch id {
	case "anonymous", "nil", "none", "null", "n/a", "na", "undefined", "unknown",
		"", "00000000-0000-0000-0000-000000000000", "{}", "lmy47d", "0", "-1":
		return true
	}
	return false
}

// mode selects the dialect of the event objects being decoded.
type mode uint8

const (
	modeHTTPAPI  mode = iota // /2/httpapi and /batch
	modeLegacy               // legacy root upload: timestamp, uuid, library object, ...
	modeIdentify             // /identify identification objects
)

// env is what decoding needs to know about the request.
type env struct {
	now      int64  // server received time, ms
	clientIP string // the request's client address, for ip "$remote"
}

// eventDecoder decodes the event objects of one request into events that
// share one arena. It is not safe for concurrent use.
type eventDecoder struct {
	env      env
	mode     mode
	minIDLen int
	arena    arena
	floats   []float64 // slab for the *float64 fields
	ints     []int64   // slab for the *int64 fields
	probs    problems
	scratch  []byte
	// untimed lists the events that carried no time (their
	// ClientEventTime is the server's, so no skew correction applies).
	untimed []bool

	// Per-event state while visiting keys.
	ev   *event.Event
	idx  int
	seen seen
}

// seen records which keys an event carried.
type seen struct {
	userID, deviceID, eventType, time, appVersion bool
}

func newEventDecoder(e env, m mode, bodySize int) *eventDecoder {
	return &eventDecoder{env: e, mode: m, minIDLen: defaultMinIDLength, arena: newArena(bodySize)}
}

func (d *eventDecoder) float(f float64) *float64 {
	if len(d.floats) == cap(d.floats) {
		d.floats = make([]float64, 0, 64)
	}
	d.floats = append(d.floats, f)
	return &d.floats[len(d.floats)-1]
}

func (d *eventDecoder) int(n int64) *int64 {
	if len(d.ints) == cap(d.ints) {
		d.ints = make([]int64, 0, 64)
	}
	d.ints = append(d.ints, n)
	return &d.ints[len(d.ints)-1]
}

// decodeEvent decodes the event object v (index i of the request) into ev,
// recording problems. It reports whether the event is valid.
func (d *eventDecoder) decodeEvent(v *fastjson.Value, i int, ev *event.Event) {
	*ev = event.Event{SessionID: event.NoSession, EventID: event.NoEventID}
	o, err := v.Object()
	if err != nil {
		d.probs.addInvalid("event", i)
		return
	}
	d.ev, d.idx, d.seen = ev, i, seen{}
	o.Visit(d.field)
	d.finish(ev, i)
}

// str decodes a string field; null is absent.
func (d *eventDecoder) str(name string, v *fastjson.Value, dst *string) bool {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		*dst = d.arena.str(b2s(b))
		return true
	case fastjson.TypeNull:
		return false
	}
	d.probs.addInvalid(name, d.idx)
	return false
}

// rawNumber returns the text of a number value, or "" when it is not a
// well-formed JSON number.
func (d *eventDecoder) rawNumber(v *fastjson.Value) string {
	d.scratch = v.MarshalTo(d.scratch[:0])
	s := b2s(d.scratch)
	if !validNumber(s) {
		return ""
	}
	return s
}

// integer decodes an integer field; an integer-valued JSON number such as
// 1.7e12 or 5.0 is accepted.
func (d *eventDecoder) integer(name string, v *fastjson.Value) (int64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if s := d.rawNumber(v); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, true
			}
			f, err := strconv.ParseFloat(s, 64)
			if err == nil && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
				return int64(f), true
			}
		}
	case fastjson.TypeNull:
		return 0, false
	}
	d.probs.addInvalid(name, d.idx)
	return 0, false
}

// number decodes a finite float field.
func (d *eventDecoder) number(name string, v *fastjson.Value) (float64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if s := d.rawNumber(v); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err == nil && !math.IsInf(f, 0) {
				return f, true
			}
		}
	case fastjson.TypeNull:
		return 0, false
	}
	d.probs.addInvalid(name, d.idx)
	return 0, false
}

// object decodes an object field into compact JSON text; null is absent.
func (d *eventDecoder) object(name string, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		start := d.arena.mark(256)
		var ok bool
		d.arena.buf, ok = appendJSON(d.arena.buf, v, 1)
		if ok {
			return d.arena.bytesFrom(start)
		}
		d.arena.buf = d.arena.buf[:start]
	case fastjson.TypeNull:
		return nil
	}
	d.probs.addInvalid(name, d.idx)
	return nil
}

// field decodes one key of the current event.
func (d *eventDecoder) field(key []byte, v *fastjson.Value) {
	e := d.ev
	name := b2s(key)
	switch name {
	case "user_id":
		d.seen.userID = d.str("user_id", v, &e.UserID) || d.seen.userID
	case "device_id":
		d.seen.deviceID = d.str("device_id", v, &e.DeviceID) || d.seen.deviceID
	case "event_type":
		d.seen.eventType = d.str("event_type", v, &e.EventType) || d.seen.eventType
	case "time":
		if n, ok := d.integer("time", v); ok {
			if n < 0 {
				d.probs.addInvalid("time", d.idx)
			}
			e.ClientEventTime, d.seen.time = n, true
		}
	case "timestamp":
		if d.mode == modeLegacy && !d.seen.time {
			if n, ok := d.integer("timestamp", v); ok {
				if n < 0 {
					d.probs.addInvalid("timestamp", d.idx)
				}
				e.ClientEventTime, d.seen.time = n, true
			}
		}
	case "session_id":
		if n, ok := d.integer("session_id", v); ok {
			if n < 0 {
				n = event.NoSession
			}
			e.SessionID = n
		}
	case "event_id":
		if n, ok := d.integer("event_id", v); ok {
			e.EventID = n
		}
	case "sequence_number":
		if d.mode == modeLegacy && e.EventID == event.NoEventID {
			if n, ok := d.integer("sequence_number", v); ok {
				e.EventID = n
			}
		}
	case "insert_id":
		d.str("insert_id", v, &e.InsertID)
	case "uuid":
		if d.mode == modeLegacy && e.InsertID == "" {
			d.str("uuid", v, &e.InsertID)
		}
	case "event_properties":
		e.EventProperties = d.object("event_properties", v)
	case "user_properties":
		e.UserProperties = d.object("user_properties", v)
	case "groups":
		e.Groups = d.object("groups", v)
	case "group_properties":
		e.GroupProperties = d.object("group_properties", v)
	case "plan":
		e.Plan = d.object("plan", v)
	case "ingestion_metadata":
		e.IngestionMetadata = d.object("ingestion_metadata", v)
	case "$skip_user_properties_sync":
		switch v.Type() {
		case fastjson.TypeTrue:
			e.SkipUserPropertiesSync = true
		case fastjson.TypeFalse, fastjson.TypeNull:
			e.SkipUserPropertiesSync = false
		default:
			d.probs.addInvalid(name, d.idx)
		}
	case "app_version":
		if d.str("app_version", v, &e.AppVersion) {
			d.seen.appVersion = true
		}
	case "version_name":
		if !d.seen.appVersion {
			d.str("version_name", v, &e.AppVersion)
		} else if t := v.Type(); t != fastjson.TypeString && t != fastjson.TypeNull {
			d.probs.addInvalid(name, d.idx)
		}
	case "start_version":
		d.str("start_version", v, &e.StartVersion)
	case "platform":
		d.str("platform", v, &e.Platform)
	case "os_name":
		d.str("os_name", v, &e.OSName)
	case "os_version":
		d.str("os_version", v, &e.OSVersion)
	case "device_brand":
		d.str("device_brand", v, &e.DeviceBrand)
	case "device_manufacturer":
		d.str("device_manufacturer", v, &e.DeviceManufacturer)
	case "device_model":
		d.str("device_model", v, &e.DeviceModel)
	case "carrier":
		d.str("carrier", v, &e.Carrier)
	case "country":
		d.str("country", v, &e.Country)
	case "region":
		d.str("region", v, &e.Region)
	case "city":
		d.str("city", v, &e.City)
	case "dma":
		d.str("dma", v, &e.DMA)
	case "language":
		d.str("language", v, &e.Language)
	case "location_lat":
		if f, ok := d.number(name, v); ok {
			e.LocationLat = d.float(f)
		}
	case "location_lng":
		if f, ok := d.number(name, v); ok {
			e.LocationLng = d.float(f)
		}
	case "ip":
		d.str("ip", v, &e.IP)
	case "user_agent":
		d.str("user_agent", v, &e.UserAgent)
	case "price":
		if f, ok := d.number(name, v); ok {
			e.Price = d.float(f)
		}
	case "quantity":
		if n, ok := d.integer(name, v); ok {
			e.Quantity = d.int(n)
		}
	case "revenue":
		if f, ok := d.number(name, v); ok {
			e.Revenue = d.float(f)
		}
	case "productId":
		d.str("productId", v, &e.ProductID)
	case "revenueType":
		d.str("revenueType", v, &e.RevenueType)
	case "currency":
		d.str("currency", v, &e.Currency)
	case "idfa":
		d.str("idfa", v, &e.IDFA)
	case "idfv":
		d.str("idfv", v, &e.IDFV)
	case "adid":
		d.str("adid", v, &e.ADID)
	case "android_id":
		d.str("android_id", v, &e.AndroidID)
	case "android_app_set_id":
		d.str("android_app_set_id", v, &e.AndroidAppSetID)
	case "library":
		if d.mode == modeLegacy && v.Type() == fastjson.TypeObject {
			e.Library = d.legacyLibrary(v)
		} else {
			d.str("library", v, &e.Library)
		}
	case "partner_id":
		d.str("partner_id", v, &e.PartnerID)
	case "paying":
		switch v.Type() {
		case fastjson.TypeTrue:
			e.Paying = "true"
		case fastjson.TypeFalse:
			e.Paying = "false"
		default:
			d.str("paying", v, &e.Paying)
		}
	}
}

// legacyLibrary turns the legacy {"name","version"} object into "name/version".
func (d *eventDecoder) legacyLibrary(v *fastjson.Value) string {
	name := v.GetStringBytes("name")
	version := v.GetStringBytes("version")
	switch {
	case len(name) == 0 && len(version) == 0:
		return ""
	case len(version) == 0:
		return d.arena.str(b2s(name))
	}
	d.scratch = append(append(append(d.scratch[:0], name...), '/'), version...)
	return d.arena.str(b2s(d.scratch))
}

// finish validates the decoded event and fills the derived fields.
func (d *eventDecoder) finish(e *event.Event, i int) {
	if d.mode != modeIdentify {
		if !d.seen.eventType {
			d.probs.addMissing("event_type", i)
		} else if strings.TrimSpace(e.EventType) == "" {
			d.probs.addInvalid("event_type", i)
		}
	}
	if !d.seen.userID && !d.seen.deviceID {
		d.probs.addMissing("device_id", i)
	}
	d.checkID("user_id", e.UserID, d.seen.userID, i)
	d.checkID("device_id", e.DeviceID, d.seen.deviceID, i)

	if !d.seen.time {
		e.ClientEventTime = d.env.now
		if d.untimed == nil {
			d.untimed = make([]bool, i+1, max(i+1, 16))
		}
		for len(d.untimed) <= i {
			d.untimed = append(d.untimed, false)
		}
		d.untimed[i] = true
	}
	e.ServerReceivedTime = d.env.now
	e.ServerUploadTime = d.env.now
	if e.IP == remoteIP {
		e.IP = d.env.clientIP
	}
}

func (d *eventDecoder) checkID(field, id string, present bool, i int) {
	if !present {
		return
	}
	if blockedID(id) {
		d.probs.addInvalid(field, i)
		return
	}
	if utf8.RuneCountInString(id) < d.minIDLen {
		d.probs.addIDLength(field, i)
	}
}

// correctSkew sets every event's Time from its ClientEventTime, shifting it
// by the client's clock error when that exceeds a minute (spec §1.10).
// Events marked in untimed got the server's time and are not shifted.
func correctSkew(events []event.Event, untimed []bool, clientUpload, serverReceived int64) {
	var skew int64
	if clientUpload != 0 {
		if s := serverReceived - clientUpload; s > 60_000 || s < -60_000 {
			skew = s
		}
	}
	for i := range events {
		events[i].ClientUploadTime = clientUpload
		events[i].Time = events[i].ClientEventTime
		if i >= len(untimed) || !untimed[i] {
			events[i].Time += skew
		}
	}
}

// parseUploadTime reads client_upload_time: an ISO-8601 string, or a number
// of ms. It returns 0 when absent or unreadable.
func parseUploadTime(v *fastjson.Value) int64 {
	if v == nil {
		return 0
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		t, err := time.Parse(time.RFC3339Nano, b2s(b))
		if err != nil {
			return 0
		}
		return t.UnixMilli()
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	return 0
}

package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// codecVersion is the first byte of an encoded batch (docs/format/event-batch.md).
const codecVersion = 1

// ErrCorrupt is returned by DecodeBatch for bytes that are not a valid batch.
var ErrCorrupt = errors.New("event: corrupt batch encoding")

// maxEventsPerBatch bounds the count read from an encoded batch so that a
// corrupt count cannot make the decoder allocate without limit.
const maxEventsPerBatch = 1 << 20

// strings returns pointers to the string fields of e in encoding order.
// The order is part of the on-disk format: append only.
func (e *Event) strings() [37]*string {
	return [...]*string{
		&e.EventType, &e.UserID, &e.DeviceID, &e.InsertID,
		&e.AppVersion, &e.StartVersion, &e.Platform, &e.OSName, &e.OSVersion,
		&e.DeviceBrand, &e.DeviceManufacturer, &e.DeviceModel, &e.DeviceType,
		&e.DeviceFamily, &e.Carrier, &e.Browser,
		&e.Country, &e.Region, &e.City, &e.DMA, &e.Language,
		&e.IP, &e.UserAgent,
		&e.ProductID, &e.RevenueType, &e.Currency,
		&e.IDFA, &e.IDFV, &e.ADID, &e.AndroidID, &e.AndroidAppSetID,
		&e.Library, &e.PartnerID, &e.Paying,
		// Reserved slots keep the array size stable for later fields.
		new(string), new(string), new(string),
	}
}

// blobs returns pointers to the JSON fields of e in encoding order.
func (e *Event) blobs() [8]*[]byte {
	return [...]*[]byte{
		&e.EventProperties, &e.UserProperties, &e.UserPropertyOps, &e.Groups,
		&e.GroupProperties, &e.Plan, &e.IngestionMetadata, new([]byte),
	}
}

// AppendBatch appends the binary encoding of b to dst and returns it.
func AppendBatch(dst []byte, b *Batch) []byte {
	dst = append(dst, codecVersion, byte(b.Kind))
	dst = binary.AppendVarint(dst, b.ProjectID)
	dst = binary.AppendVarint(dst, b.ServerReceivedTime)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	for i := range b.Events {
		dst = appendEvent(dst, &b.Events[i])
	}
	return dst
}

func appendEvent(dst []byte, e *Event) []byte {
	for _, p := range e.strings() {
		dst = binary.AppendUvarint(dst, uint64(len(*p)))
		dst = append(dst, *p...)
	}
	for _, p := range e.blobs() {
		if *p == nil {
			dst = append(dst, 0)
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(*p))+1)
		dst = append(dst, *p...)
	}
	for _, v := range [...]int64{e.Time, e.ClientEventTime, e.ClientUploadTime,
		e.ServerReceivedTime, e.ServerUploadTime, e.SessionID, e.EventID,
		e.AmplitudeID, e.Seq} {
		dst = binary.AppendVarint(dst, v)
	}
	var flags byte
	if e.SkipUserPropertiesSync {
		flags |= 1
	}
	if e.Quantity != nil {
		flags |= 2
	}
	dst = append(dst, flags)
	if e.Quantity != nil {
		dst = binary.AppendVarint(dst, *e.Quantity)
	}
	for _, f := range [...]*float64{e.LocationLat, e.LocationLng, e.Price, e.Revenue} {
		if f == nil {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(*f))
	}
	return dst
}

// DecodeBatch decodes a batch written by AppendBatch. The returned events
// share no memory with data.
func DecodeBatch(data []byte) (*Batch, error) {
	b := &Batch{}
	evs, err := DecodeBatchAppend(append([]byte(nil), data...), b, nil)
	if err != nil {
		return nil, err
	}
	b.Events = evs
	return b, nil
}

// DecodeBatchAppend decodes a batch written by AppendBatch into hdr (all
// but Events) and appends its events to dst, returning the extended
// slice. To decode with few allocations, the events' strings share one
// copy of data and their JSON blobs point into data itself: the caller
// must not modify data while the events are in use.
func DecodeBatchAppend(data []byte, hdr *Batch, dst []Event) ([]Event, error) {
	if len(data) < 2 || data[0] != codecVersion {
		return dst, fmt.Errorf("%w: bad version", ErrCorrupt)
	}
	d := decoder{buf: data[2:], str: string(data), base: len(data)}
	hdr.Kind = Kind(data[1])
	hdr.ProjectID = d.varint()
	hdr.ServerReceivedTime = d.varint()
	n := d.uvarint()
	if d.err != nil || n > maxEventsPerBatch || n > uint64(len(d.buf)) {
		return dst, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	start := len(dst)
	dst = append(dst, make([]Event, n)...)
	for i := range dst[start:] {
		e := &dst[start+i]
		d.event(e)
		if d.err != nil {
			return dst[:start], fmt.Errorf("%w: event %d", ErrCorrupt, i)
		}
		e.ProjectID = hdr.ProjectID
	}
	if len(d.buf) != 0 {
		return dst[:start], fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.buf))
	}
	return dst, nil
}

type decoder struct {
	buf  []byte
	err  error
	str  string // the whole input as a string, shared by decoded strings
	base int    // len of the whole input: buf's offset in it is base-len(buf)
}

// string reads n bytes as a substring of d.str, without copying.
func (d *decoder) string(n uint64) string {
	if n > uint64(len(d.buf)) {
		d.fail()
		return ""
	}
	off := d.base - len(d.buf)
	d.buf = d.buf[n:]
	return d.str[off : off+int(n)]
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.buf)) {
		d.fail()
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) byte1() byte {
	if len(d.buf) == 0 {
		d.fail()
		return 0
	}
	c := d.buf[0]
	d.buf = d.buf[1:]
	return c
}

func (d *decoder) event(e *Event) {
	for _, p := range e.strings() {
		*p = d.string(d.uvarint())
	}
	for _, p := range e.blobs() {
		n := d.uvarint()
		if n == 0 {
			continue
		}
		*p = d.bytes(n - 1)
	}
	for _, p := range [...]*int64{&e.Time, &e.ClientEventTime, &e.ClientUploadTime,
		&e.ServerReceivedTime, &e.ServerUploadTime, &e.SessionID, &e.EventID,
		&e.AmplitudeID, &e.Seq} {
		*p = d.varint()
	}
	flags := d.byte1()
	e.SkipUserPropertiesSync = flags&1 != 0
	if flags&2 != 0 {
		q := d.varint()
		e.Quantity = &q
	}
	for _, p := range [...]**float64{&e.LocationLat, &e.LocationLng, &e.Price, &e.Revenue} {
		if d.byte1() == 0 {
			continue
		}
		raw := d.bytes(8)
		if d.err != nil {
			return
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(raw))
		*p = &f
	}
}

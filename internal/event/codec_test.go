package event

import (
	"bytes"
	"reflect"
	"testing"
)

func sampleBatch() *Batch {
	lat, price := 52.5, -9.99
	q := int64(3)
	return &Batch{
		ProjectID: 7, ServerReceivedTime: 1700000000123, Kind: KindEvents,
		Events: []Event{
			{ProjectID: 7, EventType: "Play Song", UserID: "user-1", DeviceID: "device-1", Time: 1700000000000,
				ClientEventTime: 1700000000000, SessionID: 1699999990000, EventID: 0, InsertID: "ins-1",
				EventProperties: []byte(`{"genre":"rock"}`), UserProperties: []byte(`{"$set":{"plan":"free"}}`),
				Groups: []byte(`{"org":"acme"}`), LocationLat: &lat, Price: &price, Quantity: &q,
				SkipUserPropertiesSync: true, Country: "Germany", AmplitudeID: 42, Seq: 9},
			{ProjectID: 7, EventType: "$identify", DeviceID: "device-2", SessionID: NoSession, EventID: NoEventID},
		},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	b := sampleBatch()
	enc := AppendBatch(nil, b)
	got, err := DecodeBatch(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, b)
	}
	if again := AppendBatch(nil, got); !bytes.Equal(again, enc) {
		t.Fatal("re-encoding differs")
	}
}

func TestDecodeBatchRejectsTruncation(t *testing.T) {
	enc := AppendBatch(nil, sampleBatch())
	for i := 0; i < len(enc); i++ {
		if _, err := DecodeBatch(enc[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded without error", i)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, sampleBatch()))
	f.Add([]byte{1, 0, 2, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same batch.
		b2, err := DecodeBatch(AppendBatch(nil, b))
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("unstable round trip: %v", err)
		}
	})
}

package ingest

import (
	"errors"

	json "github.com/goccy/go-json"

	"certnet/internal/ingest/decode"
)

// A batch travels over the bus as its decoded events, not as the raw body:
// the stream keeps the normalised events (smaller than EVE records), and
// the pipeline does not decode twice. The first byte says the encoding.
const codecJSON = 'J'

func encodeEvents(evs []decode.Event, buf []byte) ([]byte, error) {
	b, err := json.Marshal(evs)
	if err != nil {
		return nil, err
	}
	buf = append(buf[:0], codecJSON)
	return append(buf, b...), nil
}

func decodeEvents(data []byte, dst []decode.Event) ([]decode.Event, error) {
	if len(data) == 0 || data[0] != codecJSON {
		return dst, errors.New("ingest: unknown batch encoding")
	}
	var evs []decode.Event
	if err := json.Unmarshal(data[1:], &evs); err != nil {
		return dst, err
	}
	return append(dst, evs...), nil
}

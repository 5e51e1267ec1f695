package envelope

import (
	"encoding/json"
	"errors"
)

// ErrInvalidRaw is Marshal's error for raw bytes that are not JSON.
var ErrInvalidRaw = errors.New("raw data is not valid JSON")

// Marshal encodes v as the JSON of args, data or a result: a
// json.RawMessage or []byte must be valid JSON and is returned as it is
// (not copied), nil is null, anything else goes through encoding/json.
func Marshal(v any) (json.RawMessage, error) {
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		return json.Marshal(v)
	}
	if raw == nil {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(raw) {
		return nil, ErrInvalidRaw
	}
	return raw, nil
}

package cache

import (
	"encoding/json"
	"errors"
	"fmt"
)

// invalidationMessage is the wire form of an invalidation one node
// forwards to the others: {"node":"…","inv":{"method","args"?} or
// {"prefix"}}.
type invalidationMessage struct {
	Node string       `json:"node"`
	Inv  Invalidation `json:"inv"`
}

// EncodeInvalidation returns the message that tells other nodes about inv,
// made on the node named node (Config.OnInvalidate hands inv over in
// canonical form). It fails only when inv.Args is not valid JSON.
func EncodeInvalidation(node string, inv Invalidation) ([]byte, error) {
	b, err := json.Marshal(invalidationMessage{Node: node, Inv: inv})
	if err != nil {
		return nil, fmt.Errorf("cache: encode invalidation: %w", err)
	}
	return b, nil
}

// DecodeInvalidation reads a message made by EncodeInvalidation: the node
// that made the invalidation, so that node can skip its own, and the
// invalidation for Apply, which checks it. The message must be a JSON
// object naming a node.
func DecodeInvalidation(b []byte) (node string, inv Invalidation, err error) {
	var m invalidationMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return "", Invalidation{}, fmt.Errorf("cache: decode invalidation: %w", err)
	}
	if m.Node == "" {
		return "", Invalidation{}, errors.New("cache: decode invalidation: no node")
	}
	return m.Node, m.Inv, nil
}

package cli

import (
	"bytes"
	"github.com/wsgate/wsgate"
	"testing"

	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
)

// TestFlagDefaultsAreTheLibrarys checks that running wsgate without flags
// configures what a zero wsgate.Config means: the flags' defaults are the
// defaults of the layers that own them.
func TestFlagDefaultsAreTheLibrarys(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		flag      string
		got, want int64
	}{
		{"--max-message-size", o.maxMessageSize, engine.DefaultMaxMessageSize},
		{"--cache-size", o.cacheSize, cache.DefaultMaxBytes},
		{"--max-buffered-input", o.maxInput, engine.DefaultMaxBufferedInput},
		{"--max-queued-bytes", int64(o.maxQueued), int64(engine.DefaultMaxQueuedBytes)},
		{"--max-messages-per-second", int64(o.maxMsgRate), wsgate.DefaultMaxMessagesPerSecond},
		{"--max-subscriptions-per-conn", int64(o.maxSubs), wsgate.DefaultMaxSubscriptionsPerConn},
		{"--handshake-timeout", int64(o.handshakeTimeout), int64(wsgate.DefaultHandshakeTimeout)},
		{"--history-size", int64(o.broker.historySize), wsgate.DefaultHistorySize},
	} {
		if tt.got != tt.want {
			t.Errorf("%s defaults to %d, the library to %d", tt.flag, tt.got, tt.want)
		}
	}
}

package wsflate

import (
	"fmt"
	"strconv"
)

// Mode says whether a server offers compression and whether it keeps a
// compressor context between the messages of a connection.
type Mode uint8

const (
	// ModeNoContextTakeover (the zero value) accepts permessage-deflate
	// and always answers server_no_context_takeover and
	// client_no_context_takeover: every message is compressed on its own,
	// so one compression serves every connection (a prepared frame's
	// twin) and a connection holds no compressor or decompressor state
	// between messages.
	ModeNoContextTakeover Mode = iota
	// ModeContextTakeover lets up to Options.MaxContexts connections keep
	// a dedicated compressor whose history spans messages (better ratios
	// for streams of similar messages, about 0.8 MB of memory each at
	// level 1). Codec.Negotiate reserves the slot at the handshake. Past
	// the cap, and whenever the client asks for
	// server_no_context_takeover, a connection gets the stateless
	// behaviour. The client is always asked for client_no_context_takeover,
	// so inflating never needs per-connection state.
	ModeContextTakeover
	// ModeDisabled declines every permessage-deflate offer.
	ModeDisabled
)

// String returns the mode's name, such as "NoContextTakeover".
func (m Mode) String() string {
	switch m {
	case ModeNoContextTakeover:
		return "NoContextTakeover"
	case ModeContextTakeover:
		return "ContextTakeover"
	case ModeDisabled:
		return "Disabled"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Level is a DEFLATE compression level as klauspost/compress/flate counts
// them: 1 (fastest) to 9 (smallest), or LevelHuffmanOnly. The zero value
// means DefaultLevel.
type Level int8

const (
	// DefaultLevel is the level used when Options.Level is zero: 1, the
	// fastest. On 4 KB JSON messages it compresses to 14-21 % of the input
	// where level 6 reaches 11-17 % for about 1.8 times the CPU.
	DefaultLevel Level = 1
	// LevelBest compresses the most and costs the most CPU.
	LevelBest Level = 9
	// LevelHuffmanOnly does no LZ77 matching, only entropy coding: very
	// fast, about 60 % of the input on JSON.
	LevelHuffmanOnly Level = -2
)

// Window is the LZ77 window a compressed message may refer back into.
type Window uint8

const (
	// WindowFull is DEFLATE's 32 KiB window (max_window_bits 15), the
	// zero value.
	WindowFull Window = iota
	// WindowSmall is a 256-byte window, which respects every
	// *_max_window_bits value RFC 7692 allows (8 to 15). It is used for a
	// peer that negotiated a window below 15 bits.
	WindowSmall
)

// smallWindow is the size of WindowSmall in bytes: 2^8, the smallest
// window RFC 7692 §7.1.2 allows.
const smallWindow = 1 << minWindowBits

// String returns "Full" or "Small".
func (w Window) String() string {
	switch w {
	case WindowFull:
		return "Full"
	case WindowSmall:
		return "Small"
	}
	return "Window(" + strconv.Itoa(int(w)) + ")"
}

// Defaults for the zero fields of Options.
const (
	// DefaultThreshold is the smallest message in bytes that is
	// compressed when Options.Threshold is zero. Shorter messages rarely
	// shrink by more than the few bytes a DEFLATE block costs.
	DefaultThreshold = 256
	// DefaultMaxContexts caps ModeContextTakeover when
	// Options.MaxContexts is zero: at about 0.8 MB per level-1
	// compressor, 64 contexts hold about 50 MB.
	DefaultMaxContexts = 64
)

// Options configure a Codec. The zero value is usable: compression on,
// no context takeover, DefaultLevel, DefaultThreshold.
type Options struct {
	// Mode is what the server accepts; see Mode. Default
	// ModeNoContextTakeover.
	Mode Mode
	// Level is the compression level: 1 to 9 or LevelHuffmanOnly; 0
	// means DefaultLevel. For a peer that negotiated a window below 15
	// bits the level is ignored: a 256-byte-window compressor is used
	// (or Huffman-only coding when Level is LevelHuffmanOnly).
	Level Level
	// Threshold is the size in bytes below which a message is sent
	// uncompressed, with RSV1 clear; 0 means DefaultThreshold (256). Use 1
	// to compress every non-empty message.
	Threshold int
	// MaxContexts is how many connections may hold a dedicated
	// compressor at once in ModeContextTakeover; 0 means
	// DefaultMaxContexts. Ignored in the other modes.
	MaxContexts int
}

// validate reports the first field of o out of range.
func (o Options) validate() error {
	switch {
	case o.Mode > ModeDisabled:
		return fmt.Errorf("%w: mode %v", ErrBadOptions, o.Mode)
	case o.Level != LevelHuffmanOnly && (o.Level < 0 || o.Level > LevelBest):
		return fmt.Errorf("%w: level %d, want 1 to 9 or LevelHuffmanOnly", ErrBadOptions, o.Level)
	case o.Threshold < 0:
		return fmt.Errorf("%w: negative threshold %d", ErrBadOptions, o.Threshold)
	case o.MaxContexts < 0:
		return fmt.Errorf("%w: negative MaxContexts %d", ErrBadOptions, o.MaxContexts)
	}
	return nil
}

// level returns the flate level to use, with the default applied.
func (o *Options) level() int {
	if o.Level == 0 {
		return int(DefaultLevel)
	}
	return int(o.Level)
}

// threshold returns the threshold in bytes, with the default applied.
func (o *Options) threshold() int {
	if o.Threshold == 0 {
		return DefaultThreshold
	}
	return o.Threshold
}

// maxContexts returns the context cap, with the default applied.
func (o *Options) maxContexts() int64 {
	if o.MaxContexts == 0 {
		return DefaultMaxContexts
	}
	return int64(o.MaxContexts)
}

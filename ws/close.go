package ws

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// StatusCode is a close code (RFC 6455 §7.4 and the IANA "WebSocket Close
// Code Number Registry").
type StatusCode uint16

// The close codes of RFC 6455 §7.4.1 and the IANA registry.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusRcvd       StatusCode = 1005 // never sent: a Close frame with no body
	StatusAbnormalClosure    StatusCode = 1006 // never sent: the connection dropped without a Close
	StatusInvalidPayload     StatusCode = 1007 // invalid frame payload data, such as bad UTF-8 in text
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015 // never sent: the TLS handshake failed
)

// String returns the code's name without the Status prefix ("NormalClosure")
// or "StatusCode(N)" for a code without a name, such as an application's
// 4000.
func (c StatusCode) String() string {
	switch c {
	case StatusNormalClosure:
		return "NormalClosure"
	case StatusGoingAway:
		return "GoingAway"
	case StatusProtocolError:
		return "ProtocolError"
	case StatusUnsupportedData:
		return "UnsupportedData"
	case StatusNoStatusRcvd:
		return "NoStatusRcvd"
	case StatusAbnormalClosure:
		return "AbnormalClosure"
	case StatusInvalidPayload:
		return "InvalidPayload"
	case StatusPolicyViolation:
		return "PolicyViolation"
	case StatusMessageTooBig:
		return "MessageTooBig"
	case StatusMandatoryExtension:
		return "MandatoryExtension"
	case StatusInternalError:
		return "InternalError"
	case StatusServiceRestart:
		return "ServiceRestart"
	case StatusTryAgainLater:
		return "TryAgainLater"
	case StatusBadGateway:
		return "BadGateway"
	case StatusTLSHandshake:
		return "TLSHandshake"
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// ValidOnWire reports whether a peer may send c in a Close frame: 1000 to
// 1003, 1007 to 1014 (1012 to 1014 are registered with IANA) and the
// ranges 3000 to 4999 for libraries and applications. 1004 (reserved),
// 1005, 1006 and 1015 (meaningful only locally), codes below 1000,
// unassigned 1016 to 2999 and 5000 and above are not.
func (c StatusCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// ParseClosePayload decodes the body of a Close frame (RFC 6455 §5.5.1): a
// 2-byte big-endian code followed by a UTF-8 reason. An empty body gives
// (StatusNoStatusRcvd, "", nil). A 1-byte body or a code that is not
// ValidOnWire is a *ProtocolError with code 1002; a reason that is not
// valid UTF-8 is a *ProtocolError with code 1007. The reason is copied
// out of p.
func ParseClosePayload(p []byte) (code StatusCode, reason string, err error) {
	switch len(p) {
	case 0:
		return StatusNoStatusRcvd, "", nil
	case 1:
		return 0, "", &ProtocolError{Code: StatusProtocolError, Reason: "close payload of 1 byte"}
	}
	code = StatusCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return 0, "", &ProtocolError{Code: StatusProtocolError, Reason: "invalid close code " + strconv.Itoa(int(code))}
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", &ProtocolError{Code: StatusInvalidPayload, Reason: "close reason is not valid UTF-8"}
	}
	return code, string(p[2:]), nil
}

// maxCloseReason is the longest reason in bytes that fits in a control
// frame after the 2-byte code.
const maxCloseReason = MaxControlPayload - 2

// AppendClosePayload appends the body of a Close frame carrying code and
// reason to dst and returns the extended slice. Invalid UTF-8 in reason is
// replaced by U+FFFD, and a reason too long for a control frame is cut on a
// code point boundary so that the body stays within MaxControlPayload (125)
// bytes. StatusNoStatusRcvd appends nothing: it stands for an empty body.
// The caller decides which code to send; AppendClosePayload does not
// check ValidOnWire.
func AppendClosePayload(dst []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusRcvd {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if !utf8.ValidString(reason) {
		reason = toValidUTF8(reason)
	}
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return append(dst, reason...)
}

// toValidUTF8 replaces each invalid byte sequence in s with U+FFFD.
func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s)+2)
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return string(b)
}

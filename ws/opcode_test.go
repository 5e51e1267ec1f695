package ws

import "testing"

func TestOpcode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op                          Opcode
		name                        string
		control, reserved, dataOpen bool
	}{
		{OpContinuation, "Continuation", false, false, false},
		{OpText, "Text", false, false, true},
		{OpBinary, "Binary", false, false, true},
		{0x3, "Opcode(3)", false, true, false},
		{0x7, "Opcode(7)", false, true, false},
		{OpClose, "Close", true, false, false},
		{OpPing, "Ping", true, false, false},
		{OpPong, "Pong", true, false, false},
		{0xB, "Opcode(11)", true, true, false},
		{0xF, "Opcode(15)", true, true, false},
		{0x10, "Opcode(16)", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.op.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if got := tt.op.IsControl(); got != tt.control {
				t.Errorf("IsControl() = %v, want %v", got, tt.control)
			}
			if got := tt.op.IsReserved(); got != tt.reserved {
				t.Errorf("IsReserved() = %v, want %v", got, tt.reserved)
			}
			if got := tt.op.IsData(); got != tt.dataOpen {
				t.Errorf("IsData() = %v, want %v", got, tt.dataOpen)
			}
		})
	}
}

func TestEnumStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{ServerSide.String(), "ServerSide"},
		{ClientSide.String(), "ClientSide"},
		{Role(7).String(), "Role(7)"},
		{EventNone.String(), "None"},
		{EventMessage.String(), "Message"},
		{EventPing.String(), "Ping"},
		{EventPong.String(), "Pong"},
		{EventClose.String(), "Close"},
		{EventKind(9).String(), "EventKind(9)"},
		{StatusNormalClosure.String(), "NormalClosure"},
		{StatusInvalidPayload.String(), "InvalidPayload"},
		{StatusTLSHandshake.String(), "TLSHandshake"},
		{StatusCode(1004).String(), "StatusCode(1004)"},
		{StatusCode(4000).String(), "StatusCode(4000)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

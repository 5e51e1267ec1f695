package envelope_test

import (
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/internal/envelope"
)

// A session parses each text message and answers with the same id, whether
// the request was good or not.
func ExampleParse() {
	for _, msg := range []string{
		`{"id":1,"call":"market.history","args":{"symbol":"ACME"}}`,
		`{"id":"r2","sub":"ticks","since":{"seq":41,"epoch":"e7"}}`,
		`{"id":3,"sub":"ticks","unsub":"ticks"}`,
	} {
		req, err := envelope.Parse([]byte(msg))
		var e *envelope.Error
		if errors.As(err, &e) {
			fmt.Printf("%s\n", envelope.AppendError(nil, req.ID, string(e.Code), e.Message))
			continue
		}
		switch req.Kind {
		case envelope.KindCall:
			fmt.Printf("call %s args=%s\n", req.Method, req.Args)
		case envelope.KindSub:
			fmt.Printf("sub %s since=%+v\n", req.Channel, *req.Since)
		}
	}
	// Output:
	// call market.history args={"symbol":"ACME"}
	// sub ticks since={Seq:41 Epoch:e7}
	// {"id":3,"error":{"code":"bad_request","message":"more than one of call, sub, unsub, pub, auth"}}
}

// Replies and publications are appended to a caller's buffer, which can be
// reused from one message to the next.
func ExampleAppendPublication() {
	buf := make([]byte, 0, 128)
	buf = envelope.AppendPublication(buf[:0], "ticks", 42, "5e0c3b1a", []byte(`{"symbol":"ACME","price":123.45}`))
	fmt.Printf("%s\n", buf)
	buf = envelope.AppendResult(buf[:0], []byte(`5`), nil)
	fmt.Printf("%s\n", buf)
	// Output:
	// {"ch":"ticks","seq":42,"data":{"symbol":"ACME","price":123.45},"epoch":"5e0c3b1a"}
	// {"id":5,"result":{}}
}

package engine

// HoldsCompressor reports whether c still holds a compression context
// that could keep a compressor (tests check it is gone after OnClose).
func HoldsCompressor(c *Conn) bool {
	c.mu.Lock()
	var z *ctxStream
	if c.more != nil {
		z = c.more.z
	}
	c.mu.Unlock()
	if z == nil {
		return false
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.s != nil || !z.done
}

// QueuedControl returns the bytes of control frames waiting to be sent
// on c.
func QueuedControl(c *Conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out == nil {
		return 0
	}
	return c.out.controlBytes()
}

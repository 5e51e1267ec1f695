package engine

// HoldsCompressor reports whether c still holds a compression context
// that could keep a compressor (tests check it is gone after OnClose).
func HoldsCompressor(c *Conn) bool {
	c.mu.Lock()
	z := c.z
	c.mu.Unlock()
	if z == nil {
		return false
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.s != nil || !z.done
}

package bench

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT, so binding a source address
// leaves the port to connect(), which picks one unique for the whole
// 4-tuple: each source address then has the full ephemeral range for
// every server address.
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	if network == "tcp6" {
		return nil // the IPv4 option does not apply
	}
	return serr
}

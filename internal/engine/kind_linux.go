//go:build linux

package engine

const epollSupported = true

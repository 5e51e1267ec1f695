package backend

import "syscall"

const syscallRefused = syscall.ECONNREFUSED

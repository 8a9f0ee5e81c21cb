//go:build unix

package augment

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user plus system. On a
// shared machine it measures work where wall time also measures waiting.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked reports an output that another process is writing. The error
// returned is a *LockError, which names the holder.
var ErrLocked = errors.New("being written by another segtool")

// LockError is ErrLocked with the folder and the holder's PID (0 where the
// holder had not yet written it).
type LockError struct {
	Dir string
	PID int
}

func (e *LockError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s: %v (PID %d)", e.Dir, ErrLocked, e.PID)
	}
	return fmt.Sprintf("%s: %v", e.Dir, ErrLocked)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockError) Is(target error) bool { return target == ErrLocked }

// Lock is an exclusive lock on an output folder, held by this process.
type Lock struct {
	f    *os.File
	path string
}

// LockPath is the lock file of an output folder. It lives beside the
// folder, not in it, so it never ends up in what is published and it
// outlives the rename of a staging folder over the old output.
func LockPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".segtool-lock"), nil
}

// LockOutput takes the exclusive lock of the output folder dir, or returns a
// *LockError naming the process that holds it. The lock is an flock on
// LockPath(dir), which holds the holder's PID: it dies with the process,
// so a lock file left by a killed run does not block.
func LockOutput(dir string) (*Lock, error) {
	p, err := LockPath(dir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil && !errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
			// A parent we may not write (an output of "."): lock inside
			// the folder; it is removed again at the release.
			if err = os.MkdirAll(dir, 0o755); err == nil {
				p = filepath.Join(dir, ".segtool-lock")
				f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			pid := holderPID(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &LockError{Dir: dir, PID: pid}
			}
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		// A holder that released after we opened the file removed it: our
		// lock is then on a file nobody else will open, so start over.
		fst, ferr := f.Stat()
		pst, perr := os.Stat(p)
		if ferr != nil || perr != nil || !os.SameFile(fst, pst) {
			f.Close()
			continue
		}
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		return &Lock{f: f, path: p}, nil
	}
}

// holderPID reads the PID the holder wrote, waiting briefly for a holder
// that has just taken the lock.
func holderPID(f *os.File) int {
	buf := make([]byte, 32)
	for range 20 {
		n, _ := f.ReadAt(buf, 0)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0
}

// Release removes the lock file and releases the lock. It may be called
// more than once, and on a nil Lock.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	// Removed while still held, so no one can lock the old file and find
	// it current (see LockOutput).
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}

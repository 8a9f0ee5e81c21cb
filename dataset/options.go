package dataset

import "errors"

// ErrFailFast marks the error a run stops on at its first rejected
// sample when asked to (eval and every job): one sentinel, so the command
// line names the flag once.
var ErrFailFast = errors.New("fail-fast")

// OptionError is a fault in a job's options rather than in a sample: a
// source that does not exist, an unknown split, a bad spec. Field names
// the options-struct field at fault ("Workers", "Splits"; two joined by
// "/" when they conflict), so the command line can name its flag and exit 2.
type OptionError struct {
	Field string
	Err   error
}

func (e *OptionError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

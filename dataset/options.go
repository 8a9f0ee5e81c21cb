package dataset

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

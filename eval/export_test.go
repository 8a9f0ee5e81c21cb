package eval

// SetWriteFile makes Run write preds and overlays with write, so tests can
// fail a write as a full disk would.
func SetWriteFile(c *Config, write func(path string, data []byte) error) { c.writeFile = write }

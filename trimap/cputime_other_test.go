//go:build !unix

package trimap

import "time"

func processCPU() time.Duration { return 0 }

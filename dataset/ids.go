package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path"
	"strings"
)

// ID derives a sample id from the image's path relative to its format's
// image root: the extension is dropped, "/" becomes "_" and any byte outside
// [A-Za-z0-9._-] becomes "-". The id depends only on the path, so the same
// file gets the same id in every run and on every machine.
func ID(rel string) string {
	rel = path.Clean(strings.ReplaceAll(rel, "\\", "/"))
	rel = strings.TrimSuffix(rel, path.Ext(rel))
	var b strings.Builder
	for i := 0; i < len(rel); i++ {
		c := rel[i]
		switch {
		case c == '/':
			b.WriteByte('_')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// unitHash maps (seed, key) to a number in [0, 1) with SHA-256, so the value
// is the same on every platform and in every Go release.
func unitHash(seed int64, key string) float64 {
	h := sha256.New()
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seed))
	h.Write(s[:])
	h.Write([]byte(key))
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}

// Ratios are the train, val and test shares used for sources without an
// official split.
type Ratios [3]float64

// ParseRatios reads "0.8,0.1,0.1". The shares must be non-negative and sum
// to 1 (within 1e-6).
func ParseRatios(s string) (Ratios, error) {
	var r Ratios
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return r, fmt.Errorf("want three comma-separated ratios train,val,test, got %q", s)
	}
	sum := 0.0
	for i, p := range parts {
		if _, err := fmt.Sscanf(strings.TrimSpace(p), "%g", &r[i]); err != nil || r[i] < 0 {
			return r, fmt.Errorf("ratio %q is not a non-negative number", p)
		}
		sum += r[i]
	}
	if sum < 1-1e-6 || sum > 1+1e-6 {
		return r, fmt.Errorf("ratios %q sum to %g, not 1", s, sum)
	}
	return r, nil
}

// SplitFor decides a sample's split. An official split is kept, except that
// valFromTrain carves that share of an official train split into val. With
// no official split the ratios apply. Both use unitHash(seed, id), so a
// sample's split never depends on which other samples exist.
func SplitFor(id, official string, r Ratios, valFromTrain float64, seed int64) string {
	u := unitHash(seed, id)
	switch official {
	case "train":
		if u < valFromTrain {
			return "val"
		}
		return "train"
	case "val", "test":
		return official
	}
	switch {
	case u < r[0]:
		return "train"
	case u < r[0]+r[1]:
		return "val"
	default:
		return "test"
	}
}

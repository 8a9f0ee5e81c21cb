package trimap

// Flag marks a trimap that is probably useless for matting, so that the
// caller can write a reject line for the sample instead of keeping it.
type Flag int

const (
	// FlagNone: the trimap has at least two of the three classes, or is
	// all unknown.
	FlagNone Flag = iota
	// FlagAllBackground: every pixel is background (for example an
	// all-zero matte).
	FlagAllBackground
	// FlagAllForeground: every pixel is foreground (an all-one matte).
	FlagAllForeground
)

// String returns "ok", "all-background" or "all-foreground".
func (f Flag) String() string {
	switch f {
	case FlagNone:
		return "ok"
	case FlagAllBackground:
		return "all-background"
	case FlagAllForeground:
		return "all-foreground"
	}
	return "flag(?)"
}

// Check returns the flag of a trimap: whether it is all background or all
// foreground. An all-unknown trimap is not flagged: a matte that is
// fractional everywhere (lace, hair filling the frame) legitimately gives
// one, and human trimaps of such images are nearly all unknown too.
func Check(trimap Gray) Flag {
	if len(trimap.Pix) == 0 {
		return FlagNone
	}
	v := trimap.Pix[0]
	for _, u := range trimap.Pix {
		if u != v {
			return FlagNone
		}
	}
	switch v {
	case Background:
		return FlagAllBackground
	case Foreground:
		return FlagAllForeground
	}
	return FlagNone
}

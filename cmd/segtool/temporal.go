package main

import (
	"github.com/urfave/cli/v2"

	"github.com/segtool/segtool/temporal"
)

// temporalFlags reads --temporal, or its alias --temporal-ema D (apply,
// bench video and eval share both flags). --temporal-ema 0 is off, as it
// always was on apply.
func temporalFlags(c *cli.Context) (temporal.Spec, error) {
	if c.IsSet("temporal-ema") {
		if c.IsSet("temporal") {
			return temporal.Spec{}, usageError("give --temporal or --temporal-ema (the same as --temporal ema:D), not both")
		}
		t := temporal.Spec{Kind: temporal.EMA, Param: c.Float64("temporal-ema")}
		if t.Param == 0 {
			t.Kind = temporal.None
		}
		if err := t.Check(); err != nil {
			return t, usageError("--temporal-ema: %v", err)
		}
		return t, nil
	}
	t, err := temporal.Parse(c.String("temporal"))
	if err != nil {
		return t, usageError("--temporal: %v", err)
	}
	return t, nil
}

package timeshift

import (
	"math"
	"strconv"
	"time"
)

// bases are the units a unix timestamp number may count, tried in order.
var bases = [...]time.Duration{time.Second, time.Millisecond, time.Microsecond, time.Nanosecond}

// shiftUnix returns the number tok moved by delta, or nil when it is no unix
// timestamp in the window. Negative numbers and exponents are never moved.
func shiftUnix(tok []byte, delta time.Duration, w window) []byte {
	if len(tok) == 0 || tok[0] == '-' {
		return nil
	}
	intPart, frac := tok, []byte(nil)
	for i, c := range tok {
		switch c {
		case 'e', 'E':
			return nil
		case '.':
			intPart, frac = tok[:i], tok[i+1:]
		}
	}
	k := len(frac)
	if k > 9 || len(intPart) > 19 {
		return nil
	}
	// v counts units of base/10^k.
	v, err := strconv.ParseInt(string(intPart), 10, 64)
	if err != nil {
		return nil
	}
	scale := int64(pow10Duration(k))
	if v > math.MaxInt64/scale {
		return nil
	}
	v *= scale
	if k > 0 {
		f, _ := strconv.ParseInt(string(frac), 10, 64)
		v += f
	}
	for _, base := range bases {
		unit := base / time.Duration(scale)
		if unit < 1 || base%time.Duration(scale) != 0 {
			continue
		}
		if v > math.MaxInt64/int64(unit) {
			continue
		}
		if !w.contains(time.Unix(0, v*int64(unit))) {
			continue
		}
		step := int64(delta.Round(unit) / unit)
		nv := v + step
		if (step > 0 && nv < v) || nv < 0 || nv > math.MaxInt64/int64(unit) {
			return nil
		}
		return formatScaled(nv, k)
	}
	return nil
}

// formatScaled writes v/10^k with exactly k fraction digits.
func formatScaled(v int64, k int) []byte {
	if k == 0 {
		return strconv.AppendInt(nil, v, 10)
	}
	scale := int64(pow10Duration(k))
	out := strconv.AppendInt(nil, v/scale, 10)
	out = append(out, '.')
	return appendInt(out, int(v%scale), k)
}

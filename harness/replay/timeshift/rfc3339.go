package timeshift

import (
	"time"
)

// stamp is a parsed RFC 3339 date-time together with how it was written.
type stamp struct {
	t        time.Time
	sep      byte // 'T', 't' or ' '
	digits   int  // fraction digits, 0..9
	zone     []byte
	hasZone  bool
	zoneSecs int // offset east of UTC, when zone is an offset
}

// shiftRFC3339 returns s moved by delta, or nil when s is no RFC 3339
// date-time in the window (or the result would leave years 0000-9999).
func shiftRFC3339(s []byte, delta time.Duration, w window) []byte {
	st, ok := parseStamp(s)
	if !ok || !w.contains(st.t) {
		return nil
	}
	unit := pow10Duration(9 - st.digits)
	t := st.t.Add(delta.Round(unit))
	if y := t.In(st.loc()).Year(); y < 0 || y > 9999 {
		return nil
	}
	return st.format(t)
}

func (st stamp) loc() *time.Location {
	if !st.hasZone {
		return time.UTC
	}
	return time.FixedZone("", st.zoneSecs)
}

func (st stamp) format(t time.Time) []byte {
	t = t.In(st.loc())
	out := make([]byte, 0, 35)
	out = appendInt(out, t.Year(), 4)
	out = append(out, '-')
	out = appendInt(out, int(t.Month()), 2)
	out = append(out, '-')
	out = appendInt(out, t.Day(), 2)
	out = append(out, st.sep)
	out = appendInt(out, t.Hour(), 2)
	out = append(out, ':')
	out = appendInt(out, t.Minute(), 2)
	out = append(out, ':')
	out = appendInt(out, t.Second(), 2)
	if st.digits > 0 {
		out = append(out, '.')
		out = appendInt(out, t.Nanosecond()/int(pow10Duration(9-st.digits)), st.digits)
	}
	return append(out, st.zone...)
}

// parseStamp reads YYYY-MM-DD[Tt ]hh:mm:ss[.f{1,9}][Z|z|±hh:mm].
func parseStamp(s []byte) (stamp, bool) {
	var st stamp
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return st, false
	}
	st.sep = s[10]
	if st.sep != 'T' && st.sep != 't' && st.sep != ' ' {
		return st, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return st, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		k := 1
		for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
			k++
		}
		st.digits = k - 1
		if st.digits < 1 || st.digits > 9 {
			return st, false
		}
		f, _ := digits(rest[1:k])
		nsec = f * int(pow10Duration(9-st.digits))
		rest = rest[k:]
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		st.hasZone, st.zone = true, rest
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		hh, ok1 := digits(rest[1:3])
		mm, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return st, false
		}
		st.hasZone, st.zone, st.zoneSecs = true, rest, (hh*60+mm)*60
		if rest[0] == '-' {
			st.zoneSecs = -st.zoneSecs
		}
	default:
		return st, false
	}
	// Leap seconds (ss = 60) and impossible dates are left alone: moving them
	// could not keep the text they were written as.
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return st, false
	}
	st.t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, st.loc())
	if st.t.Day() != day {
		return st, false // 31 April and the like
	}
	return st, true
}

// digits parses an all-digit slice of at most 9 bytes.
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func appendInt(b []byte, v, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for pad := width - (len(tmp) - i); pad > 0; pad-- {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// pow10Duration returns 10^e nanoseconds, 0 <= e <= 9.
func pow10Duration(e int) time.Duration {
	d := time.Duration(1)
	for range e {
		d *= 10
	}
	return d
}

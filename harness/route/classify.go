package route

// The thresholds below trade two kinds of mistake. Leaving an ID in a
// template splits one route into thousands of metric series; replacing a word
// merges two routes. The first is worse, so anything random-looking goes,
// but the short words with digits that APIs use (v1, oauth2, sha256, k8s,
// i18n, x86_64, v2beta1) are kept.
const (
	minHexLen   = 16 // all-hex segments at least this long are IDs
	minTokenLen = 20 // base64url-ish tokens at least this long are IDs
	ulidLen     = 26
	uuidLen     = 36
)

// IsID reports whether one path segment (no '/') looks like an identifier:
// a number, a UUID, a ULID, a hex string of 16+ characters, a long
// base64url-ish token, or a mix of letters and digits that is not a short
// word such as "v1", "oauth2" or "sha256" (e.g. "item_8f3a2c",
// "ord-20261127-0042").
func IsID(seg string) bool {
	n := len(seg)
	if n == 0 {
		return false
	}
	var digits, upper, lower, nonHex int
	b64 := true // only [A-Za-z0-9_-], with '=' padding at the end
	for i := 0; i < n; i++ {
		c := seg[i]
		switch {
		case isDigit(c):
			digits++
		case 'a' <= c && c <= 'z':
			lower++
			if c > 'f' {
				nonHex++
			}
		case 'A' <= c && c <= 'Z':
			upper++
			if c > 'F' {
				nonHex++
			}
		default:
			nonHex++
			if c != '-' && c != '_' && (c != '=' || !padding(seg[i:])) {
				b64 = false
			}
		}
	}
	letters := upper + lower
	switch {
	case digits == n:
		return true
	case nonHex == 0 && n >= minHexLen:
		return true
	case digits == 0:
		// Without digits only a long random token qualifies; camelCase words
		// have far fewer capitals than random base64 (about 40%).
		return b64 && n >= minTokenLen && upper*4 >= n && lower*4 >= n
	case n == uuidLen && isUUID(seg):
		return true
	case n == ulidLen && isULID(seg):
		return true
	case b64 && n >= minTokenLen && upper > 0 && lower > 0:
		return true
	case letters == 0:
		// Digits and punctuation only: dates, versions, "123-456".
		return true
	}
	return hasIDPart(seg)
}

func padding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// hasIDPart splits seg into maximal alphanumeric runs and reports whether
// any run with a digit is not word-like.
func hasIDPart(seg string) bool {
	start := -1
	for i := 0; i <= len(seg); i++ {
		alnum := i < len(seg) && (isDigit(seg[i]) || isAlpha(seg[i]))
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			if !wordish(seg[start:i]) {
				return true
			}
			start = -1
		}
	}
	return false
}

// wordish reports whether an alphanumeric run reads as a word rather than
// an ID.
func wordish(p string) bool {
	digits, lead := 0, 0 // lead: letters before the first digit
	for i := 0; i < len(p); i++ {
		if isDigit(p[i]) {
			digits++
		} else if digits == 0 {
			lead++
		}
	}
	switch {
	case digits == 0:
		return true
	case digits == len(p):
		// "utf-8", "x86_64", "page-2"; "ord-20261127" is an ID.
		return digits <= 2
	case len(p) <= 4 && digits <= 2:
		// "2fa", "k8s", "i18n", "h2c", "mp4", "web3".
		return true
	case lead > 0 && lead+digits == len(p) && digits <= 3:
		// A word with a short numeric suffix: "oauth2", "sha256", "x509".
		return true
	}
	return isVersion(p)
}

// isVersion matches API versions such as "v2beta1", "v1alpha", "v10rc2".
func isVersion(p string) bool {
	if len(p) < 3 || p[0]|0x20 != 'v' {
		return false
	}
	i := 1
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i == 1 || i > 3 {
		return false
	}
	j := i
	for j < len(p) && isAlpha(p[j]) {
		j++
	}
	if j == i {
		return false
	}
	k := j
	for k < len(p) && isDigit(p[k]) {
		k++
	}
	return k == len(p) && k-j <= 2
}

// isUUID matches the 8-4-4-4-12 hex form, any case.
func isUUID(s string) bool {
	for i := 0; i < uuidLen; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// isULID matches 26 Crockford base32 characters whose first is 0-7 (the
// 48-bit timestamp cannot overflow).
func isULID(s string) bool {
	if s[0] < '0' || s[0] > '7' {
		return false
	}
	for i := 1; i < ulidLen; i++ {
		c := s[i] | 0x20
		if isDigit(s[i]) {
			continue
		}
		if c < 'a' || c > 'z' || c == 'i' || c == 'l' || c == 'o' || c == 'u' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

package inspect

import "math"

// rateCurve turns start counts per second into at most maxPoints points. A
// bucket wider than a second holds the mean rate over its seconds, so the
// unit stays starts per second whatever the width.
func rateCurve(perSecond map[int64]int64, total int64, maxPoints int) Rate {
	r := Rate{Points: []float64{}}
	if len(perSecond) == 0 {
		return r
	}
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	var peak int64
	for sec, n := range perSecond {
		first, last = min(first, sec), max(last, sec)
		peak = max(peak, n)
	}
	// Seconds are floor(ns / 1e9) of int64 offsets, so the span fits easily.
	span := last - first + 1
	width := (span + int64(maxPoints) - 1) / int64(maxPoints)
	npoints := (span + width - 1) / width
	points := make([]float64, npoints)
	for sec, n := range perSecond {
		points[(sec-first)/width] += float64(n)
	}
	for i := range points {
		secs := min(width, span-int64(i)*width)
		points[i] = round3(points[i] / float64(secs))
	}
	r.BucketSeconds, r.FirstSecond, r.Points = width, first, points
	r.Max = float64(peak)
	if int64(len(perSecond)) == span {
		r.Min = math.MaxFloat64
		for _, n := range perSecond {
			r.Min = min(r.Min, float64(n))
		}
	}
	r.Mean = round3(float64(total) / float64(span))
	return r
}

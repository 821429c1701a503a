package svc

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// redMetrics are the HTTP rate, errors and duration by route.
type redMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	panics   prometheus.Counter
}

func newRED(reg prometheus.Registerer) *redMetrics {
	m := &redMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request duration by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "service_panics_total", Help: "Panics recovered in request handlers.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.panics)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Handle registers an HTTP handler whose requests are counted and timed
// under the pattern as route label. A panic in the handler is logged,
// counted and answered with 500, as a real service's middleware would.
func (s *Service) Handle(pattern string, h http.HandlerFunc) {
	route := pattern
	if _, after, ok := strings.Cut(pattern, " "); ok {
		route = after
	}
	s.Mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.red.panics.Inc()
				s.Log.Error("panic", "route", route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.code == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			s.red.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
			s.red.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		}()
		h(sw, r)
	})
}

// recoverUnary turns a handler panic into codes.Internal, logged and counted.
func (s *Service) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.red.panics.Inc()
			s.Log.Error("panic", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "internal error")
		}
	}()
	return h(ctx, req)
}

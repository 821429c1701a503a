package gateway

import (
	"encoding/json"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/internal/marketplace"
)

type errorBody struct {
	Error string `json:"error"`
	// Reason is a stable machine-readable cause, e.g. ITEM_SOLD.
	Reason string `json:"reason,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg, reason string) {
	writeJSON(w, code, errorBody{Error: msg, Reason: reason})
}

// writeBackendError answers a failed backend call with the HTTP status its
// gRPC code maps to, keeping the backend's message and reason.
func writeBackendError(w http.ResponseWriter, err error) {
	code, reason := httpStatus(err)
	writeError(w, code, status.Convert(err).Message(), reason)
}

// httpStatus maps a backend error to an HTTP status. FAILED_PRECONDITION is
// split by the marketplace's ErrorInfo reason: sold is a conflict, too poor
// is 402.
func httpStatus(err error) (int, string) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.OK:
		return http.StatusOK, ""
	case codes.NotFound:
		return http.StatusNotFound, "NOT_FOUND"
	case codes.FailedPrecondition:
		switch r := marketplace.Reason(err); r {
		case marketplace.ReasonInsufficientBalance:
			return http.StatusPaymentRequired, r
		case "":
			return http.StatusConflict, "FAILED_PRECONDITION"
		default:
			return http.StatusConflict, r
		}
	case codes.InvalidArgument, codes.OutOfRange:
		return http.StatusBadRequest, "INVALID_ARGUMENT"
	case codes.Unavailable:
		return http.StatusServiceUnavailable, "UNAVAILABLE"
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"
	case codes.PermissionDenied:
		return http.StatusForbidden, "PERMISSION_DENIED"
	case codes.Unauthenticated:
		return http.StatusUnauthorized, "UNAUTHENTICATED"
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict, st.Code().String()
	case codes.Canceled:
		// The client went away; 499 as nginx logs it, so it is not
		// mistaken for a server fault.
		return 499, "CANCELED"
	default:
		return http.StatusBadGateway, "BACKEND_ERROR"
	}
}

func authReason(err error) string {
	switch {
	case errors.Is(err, ErrNoToken):
		return "missing"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrBadSignature):
		return "signature"
	default:
		return "malformed"
	}
}

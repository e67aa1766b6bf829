package server

import (
	"net/http"
	"strconv"
)

// esError is an Elasticsearch error object: the "error" of a failed
// request or of a failed bulk item.
type esError struct {
	Type   string
	Reason string
	Status int
	Index  string // for index-level errors
}

func errIllegalArgument(reason string) *esError {
	return &esError{Type: "illegal_argument_exception", Reason: reason, Status: http.StatusBadRequest}
}

func errParse(reason string) *esError {
	return &esError{Type: "x_content_parse_exception", Reason: reason, Status: http.StatusBadRequest}
}

func errValidation(reason string) *esError {
	return &esError{Type: "action_request_validation_exception", Reason: "Validation Failed: 1: " + reason + ";", Status: http.StatusBadRequest}
}

func errRejected(reason string) *esError {
	return &esError{Type: "es_rejected_execution_exception", Reason: reason, Status: http.StatusTooManyRequests}
}

// appendJSON appends the error object {"type":..,"reason":..}.
func (e *esError) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendStr(b, e.Type)
	b = append(b, `,"reason":`...)
	b = appendStr(b, e.Reason)
	if e.Index != "" {
		b = append(b, `,"index":`...)
		b = appendStr(b, e.Index)
	}
	return append(b, '}')
}

// body is the whole-request error document:
// {"error":{"root_cause":[...],"type":..,"reason":..},"status":N}.
func (e *esError) body() []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"root_cause":[`...)
	b = e.appendJSON(b)
	b = append(b, `],"type":`...)
	b = appendStr(b, e.Type)
	b = append(b, `,"reason":`...)
	b = appendStr(b, e.Reason)
	if e.Index != "" {
		b = append(b, `,"index":`...)
		b = appendStr(b, e.Index)
	}
	b = append(b, `},"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	return append(b, "}\n"...)
}

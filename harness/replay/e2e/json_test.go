package e2e_test

import "encoding/json"

// jsonString returns the string field name of a JSON object body, or "".
func jsonString(body []byte, name string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

// jsonNumber returns the number field name of a JSON object body as text,
// or "".
func jsonNumber(body []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	return string(m[name])
}

package jsonl

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Enums are written as short lowercase names ("h2c", "response"), which read
// well in jq filters. A number this build does not know is written in decimal
// so that values from a newer schema survive the round trip.

type protocol int32

func (p protocol) MarshalText() ([]byte, error) {
	return enumText(rprpb.Protocol(0).Descriptor(), "PROTOCOL_", int32(p)), nil
}

func (p *protocol) UnmarshalText(b []byte) error {
	n, err := parseEnum(rprpb.Protocol(0).Descriptor(), "PROTOCOL_", "protocol", string(b))
	*p = protocol(n)
	return err
}

type direction int32

func (d direction) MarshalText() ([]byte, error) {
	return enumText(rprpb.Direction(0).Descriptor(), "DIRECTION_", int32(d)), nil
}

func (d *direction) UnmarshalText(b []byte) error {
	n, err := parseEnum(rprpb.Direction(0).Descriptor(), "DIRECTION_", "direction", string(b))
	*d = direction(n)
	return err
}

type callKind int32

func (k callKind) MarshalText() ([]byte, error) {
	return enumText(rprpb.CallKind(0).Descriptor(), "CALL_KIND_", int32(k)), nil
}

func (k *callKind) UnmarshalText(b []byte) error {
	n, err := parseEnum(rprpb.CallKind(0).Descriptor(), "CALL_KIND_", "grpc kind", string(b))
	*k = callKind(n)
	return err
}

func enumText(d protoreflect.EnumDescriptor, prefix string, n int32) []byte {
	if v := d.Values().ByNumber(protoreflect.EnumNumber(n)); v != nil {
		return []byte(strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)))
	}
	return strconv.AppendInt(nil, int64(n), 10)
}

// parseEnum accepts the short name in any case, the full schema name, or a
// decimal number.
func parseEnum(d protoreflect.EnumDescriptor, prefix, what, s string) (int32, error) {
	if v := d.Values().ByName(protoreflect.Name(strings.ToUpper(s))); v != nil {
		return int32(v.Number()), nil
	}
	if v := d.Values().ByName(protoreflect.Name(prefix + strings.ToUpper(s))); v != nil {
		return int32(v.Number()), nil
	}
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return int32(n), nil
	}
	var names []string
	vals := d.Values()
	for i := 1; i < vals.Len(); i++ {
		names = append(names, strings.ToLower(strings.TrimPrefix(string(vals.Get(i).Name()), prefix)))
	}
	return 0, fmt.Errorf("unknown %s %q (want %s, or a number)", what, s, strings.Join(names, ", "))
}

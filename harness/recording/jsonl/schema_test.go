package jsonl_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/reprise-dev/reprise/harness/recording/jsonl/jsonltest"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// The view structs are written by hand, so a field added to the schema would
// silently miss the JSON Lines. This test makes that loud: the fixture must
// set every field the schema has, and TestRoundTripIsLossless then proves
// the view carries each of them.
func TestFixtureCoversSchema(t *testing.T) {
	all := map[string]bool{}
	schemaFields((&rprpb.FileHeader{}).ProtoReflect().Descriptor(), all)
	schemaFields((&rprpb.Record{}).ProtoReflect().Descriptor(), all)

	set := map[string]bool{}
	setFields(jsonltest.Header().ProtoReflect(), set)
	for _, rec := range jsonltest.Records() {
		setFields(rec.ProtoReflect(), set)
	}
	var missing []string
	for f := range all {
		if !set[f] {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "fields of the schema that the fixture never sets: add them to jsonltest, then to the view")
}

func schemaFields(md protoreflect.MessageDescriptor, out map[string]bool) {
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := string(fd.FullName())
		if out[name] {
			continue
		}
		out[name] = true
		if fd.Message() != nil && !fd.IsMap() {
			schemaFields(fd.Message(), out)
		}
	}
}

func setFields(m protoreflect.Message, out map[string]bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(fd.FullName())] = true
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				setFields(v.List().Get(i).Message(), out)
			}
		case fd.Message() != nil:
			setFields(v.Message(), out)
		}
		return true
	})
}

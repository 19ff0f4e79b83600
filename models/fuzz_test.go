package models

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzNow is the clock the fuzz target validates against, fixed so that a
// run is reproducible.
var fuzzNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// FuzzChildValidate feeds arbitrary bytes to JSON record decoding and to
// Validate, two ways: as a JSON body (what the API decodes) and as raw
// strings put straight into a record (which JSON decoding cannot produce:
// invalid UTF-8, NULs). It checks that nothing panics, that Validate is
// deterministic and does not change the record, that its errors are
// EINVALID with at least one field, that a valid record stays valid through
// Normalize (which is idempotent), and that a valid record round-trips
// through JSON unchanged. The seed corpus is in testdata/fuzz.
func FuzzChildValidate(f *testing.F) {
	for _, s := range []string{
		`{"kind":"missing","names":["Pooja Kumari","पूजा"],"sex":"female","age":{"min":8,"max":10},"observed_on":"2024-03-15","height_cm":120,"marks":"mole on left cheek","place":{"state":"West Bengal","district":"Howrah"}}`,
		`{"kind":"found","names":[" Ra\u202ehul "],"age":{"min":-1,"max":30},"observed_on":"0000-00-00"}`,
		`{"kind":"found","observed_on":"9999-12-31","height_cm":1e308,"status":"lost"}`,
		`{"kind":"missing","names":["😀 Ravi"],"languages":["hi","bn"],"guardians":["Sunita Devi"],"notes":"tab\there"}`,
		`{"id":"x","kind":"found","created_at":"2024-01-01T00:00:00+05:30","photos":[{"id":"p","faces":[{"box":[1,2,3,4]}],"subject":0}]}`,
		`{"kind":"missing","names":["Robert'); DROP TABLE children;--","name:* +kind:found"]}`,
		`{"kind":"missing","age":{"min":5,"max":3},"height_cm":-0}`,
		"{\"kind\":\"found\",\"names\":[\"\\u0000\",\"\\ud800\"]}",
		`[]`, `null`, `{"kind":1}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Child
		if json.Unmarshal(data, &c) == nil {
			checkChild(t, &c, true)
		}
		// The same bytes as raw field text: Validate must refuse what JSON
		// could never carry, and never panic on it.
		parts := strings.Split(string(data), "\x1f")
		raw := Child{Kind: KindMissing, Names: parts, Marks: string(data), Place: Place{District: parts[0]},
			ObservedOn: Date(parts[len(parts)-1]), Languages: parts}
		checkChild(t, &raw, false)
	})
}

// checkChild asserts the properties FuzzChildValidate documents. fromJSON
// says c was decoded from JSON, so a valid c must encode and decode back
// to the same bytes.
func checkChild(t *testing.T, c *Child, fromJSON bool) {
	t.Helper()
	before := snapshot(c)
	err1 := c.Validate(fuzzNow)
	if !reflect.DeepEqual(snapshot(c), before) {
		t.Fatalf("Validate changed the record")
	}
	err2 := c.Validate(fuzzNow)
	if !sameError(err1, err2) {
		t.Fatalf("Validate is not deterministic: %v, then %v", err1, err2)
	}
	if err1 != nil {
		if ErrorCode(err1) != EINVALID || len(ErrorFields(err1)) == 0 {
			t.Fatalf("Validate error is not EINVALID with fields: %#v", err1)
		}
		return
	}
	c.Normalize()
	if err := c.Validate(fuzzNow); err != nil {
		t.Fatalf("a valid record is invalid after Normalize: %v", err)
	}
	once := snapshot(c)
	c.Normalize()
	if !reflect.DeepEqual(snapshot(c), once) {
		t.Fatalf("Normalize is not idempotent")
	}
	enc, err := json.Marshal(c)
	if err != nil {
		if fromJSON {
			t.Fatalf("a valid record decoded from JSON does not encode: %v", err)
		}
		return // a raw record may hold values JSON cannot carry (Validate does not look at times)
	}
	var back Child
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatalf("a valid record's JSON does not decode: %v\n%s", err, enc)
	}
	if err := back.Validate(fuzzNow); err != nil {
		t.Fatalf("a valid record is invalid after a JSON round trip: %v\n%s", err, enc)
	}
	enc2, err := json.Marshal(&back)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("JSON round trip changed a valid record (%v):\n%s\n%s", err, enc, enc2)
	}
}

// snapshot is a deep copy of c's fields for comparison, with times as text
// (time.Time's location pointer defeats DeepEqual).
func snapshot(c *Child) any {
	b, err := json.Marshal(c)
	if err != nil {
		// Times JSON cannot write: compare everything else.
		cp := *c
		cp.CreatedAt, cp.UpdatedAt = time.Time{}, time.Time{}
		cp.Photos = nil
		b, _ = json.Marshal(&cp)
		return string(b) + c.CreatedAt.String() + c.UpdatedAt.String()
	}
	return string(b)
}

// sameError reports whether two Validate results say the same thing.
func sameError(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return a == nil || a.Error() == b.Error()
}

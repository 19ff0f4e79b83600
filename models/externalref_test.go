package models

import (
	"strings"
	"testing"
	"time"
)

// TestExternalRefRule: one rule, in characters, for external_ref. 200
// Devanagari characters (600 bytes) pass; 201 do not; invisible, control
// and unusual white-space characters and white space at the ends do not.
// Validate and ValidateExternalRef agree on every case.
func TestExternalRefRule(t *testing.T) {
	deva := strings.Repeat("क", MaxExternalRef)
	tests := []struct {
		name, ref string
		ok        bool
		mention   string // part of the message when refused
	}{
		{"empty", "", true, ""},
		{"latin", "CCI-Howrah-88", true, ""},
		{"inner spaces", "FIR 101/2024 Patna", true, ""},
		{"200 devanagari", deva, true, ""},
		{"201 devanagari", deva + "क", false, "at most 200 characters, got 201"},
		{"201 latin", strings.Repeat("a", MaxExternalRef+1), false, "at most 200"},
		{"zwsp", "CCI-88\u200b", false, "U+200B"},
		{"zwsp inside", "CCI\u200b-88", false, "U+200B"},
		{"zwj", "CCI\u200d88", false, "U+200D"},
		{"zwnj", "क्\u200cष", false, "U+200C"},
		{"bom", "\ufeffCCI-88", false, "U+FEFF"},
		{"soft hyphen", "CCI\u00ad88", false, "U+00AD"},
		{"left-to-right mark", "CCI-88\u200e", false, "U+200E"},
		{"bidi override", "CCI-\u202e88", false, "U+202E"},
		{"word joiner", "CCI\u206088", false, "U+2060"},
		{"tab", "CCI\t88", false, "U+0009"},
		{"newline", "CCI-88\n", false, "U+000A"},
		{"nul", "CCI\x0088", false, "U+0000"},
		{"no-break space", "CCI\u00a088", false, "U+00A0"},
		{"leading space", " CCI-88", false, "start or end"},
		{"trailing space", "CCI-88 ", false, "start or end"},
		{"invalid utf-8", "CCI\xff88", false, "UTF-8"},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateExternalRef(tt.ref)
			c := Child{Kind: KindMissing, ExternalRef: tt.ref}
			fields := ErrorFields(c.Validate(now))
			if tt.ok {
				if err != nil || len(fields) != 0 {
					t.Fatalf("refused: %v, %v", err, fields)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ValidateExternalRef = %v; want EINVALID mentioning %q", err, tt.mention)
			}
			if f := ErrorFields(err); len(f) != 1 || f[0].Field != "external_ref" {
				t.Errorf("ValidateExternalRef fields = %v, want external_ref", f)
			}
			if len(fields) != 1 || fields[0].Field != "external_ref" || !strings.Contains(fields[0].Message, tt.mention) {
				t.Errorf("Validate fields = %v; want one on external_ref mentioning %q", fields, tt.mention)
			}
		})
	}
}

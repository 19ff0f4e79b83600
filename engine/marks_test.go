package engine

import (
	"strings"
	"testing"
)

func TestCompareMarks(t *testing.T) {
	tests := []struct {
		a, b   string
		level  string
		detail string
	}{
		{"mole on left cheek", "til baayen gaal par", MarksMatch, "both a mole on the left cheek"},
		{"jalne ka nishan daayan haath", "burn mark on right hand", MarksMatch, "burn on the right hand"},
		{"black mole on left cheek", "til on left side of face", MarksPartial, "same kind, same region, one record gives only the region, same side"},
		{"mole on left cheek", "mole on cheek", MarksPartial, "same part, side given on one record only"},
		{"mole near left eye", "mole on left cheek", MarksPartial, "adjoining parts"},
		{"masa on nose", "til on nose", MarksPartial, "kinds often confused"},
		{"nishan on right knee", "scar on right knee", MarksPartial, ""}, // generic mark
		{"scar right hand", "scar left hand", MarksConflict, "opposite"}, // brief example
		{"mole on right cheek", "til on left side of face", MarksConflict, "on the cheek"},
		{"mole on left cheek", "scar on right knee", MarksNone, "no mark agrees"},
		{"mole on forehead", "mole on chin", MarksNone, ""}, // same region, different parts
		{"tattoo on right arm", "mole on right arm", MarksNone, ""},
		// Several marks: the best pair decides; a match beats a conflict and names it.
		{"mole on left cheek, scar on right knee", "scar on left knee. til baayen gaal par", MarksMatch, "opposite sides"},
		{"scar on right knee, mole on face", "scar on left knee, mole on left cheek", MarksConflict, ""},
		// No evidence.
		{"", "mole on left cheek", "", "not recorded on the missing record"},
		{"mole on left cheek", "   ", "", "not recorded on the found record"},
		{"no identification marks", "mole on left cheek", "", "no mark could be read from the missing record"},
		{"mole on left cheek", "koi nishan nahi", "", "no mark could be read from the found record"},
		{"mole", "mole on left cheek", "", "does not say where"},
		// Odd Unicode on both sides.
		{"ｍｏｌｅ ｏｎ ｌｅｆｔ ｃｈｅｅｋ", "बाएं गाल पर तिल", MarksMatch, ""},
	}
	for _, tt := range tests {
		c := compareMarks(tt.a, tt.b)
		if c.Field != FieldMarks || c.Level != tt.level || !strings.Contains(c.Detail, tt.detail) || c.Conflict {
			t.Errorf("compareMarks(%q, %q) = %+v, want level %q, detail with %q, no hard conflict", tt.a, tt.b, c, tt.level, tt.detail)
		}
		if c.Detail == "" {
			t.Errorf("compareMarks(%q, %q): no detail", tt.a, tt.b)
		}
	}
}

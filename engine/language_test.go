package engine

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalizeLanguages(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"hindi", "Hindi", "हिंदी", "हिन्दी", "HINDI "}, []string{"Hindi"}},
		{[]string{"bangla", "Bengali", "বাংলা"}, []string{"Bengali"}},
		{[]string{"Oriya", "odia"}, []string{"Odia"}},
		{[]string{"Hindi, Bhojpuri"}, []string{"Hindi", "Bhojpuri"}},
		{[]string{"Hindi/Urdu", "hindi and bangla"}, []string{"Hindi", "Urdu", "Bengali"}},
		{[]string{"Kurukh"}, []string{"kurukh"}}, // unknown: kept, folded
		{[]string{"ＴＡＭＩＬ"}, []string{"Tamil"}},
		{[]string{"", " , "}, nil},
	}
	for _, tt := range tests {
		if got := normalizeLanguages(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("normalizeLanguages(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCompareLanguages(t *testing.T) {
	tests := []struct {
		a, b   []string
		level  string
		detail string
	}{
		{[]string{"Hindi"}, []string{"हिंदी"}, LanguageShared, "both speak Hindi"},
		{[]string{"bangla", "Hindi"}, []string{"Bengali"}, LanguageShared, "Bengali"},
		{[]string{"Orissa oriya"}, []string{"Odia"}, LanguageNone, ""}, // a phrase that is no language name stays itself
		{[]string{"Bengali"}, []string{"Tamil", "Telugu"}, LanguageNone, "missing child: Bengali; found child: Tamil, Telugu"},
		{[]string{"Kurukh"}, []string{"kurukh"}, LanguageShared, ""},
		{nil, []string{"Hindi"}, "", "not recorded on the missing record"},
		{[]string{"Hindi"}, []string{""}, "", "not recorded on the found record"},
	}
	for _, tt := range tests {
		c := compareLanguages(tt.a, tt.b)
		if c.Level != tt.level || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("compareLanguages(%q, %q) = %+v, want %q with %q", tt.a, tt.b, c, tt.level, tt.detail)
		}
	}
}

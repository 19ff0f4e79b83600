package clothing

import (
	"slices"
	"testing"
)

func TestReadFoldsEnglishAndHindiToCanonicalWords(t *testing.T) {
	for _, tc := range []struct {
		texts                       []string
		garments, colours, patterns []string
	}{
		{[]string{"lal kameez"}, []string{"kurta"}, []string{"red"}, nil},
		{[]string{"नीली फ्रॉक"}, []string{"frock"}, []string{"blue"}, nil},
		{[]string{"Blue CHECKED shirt"}, []string{"shirt"}, []string{"blue"}, []string{"checked"}},
		// The garment, colour and free-text fields of one record read alike,
		// and a word named twice (or by a synonym) counts once.
		{[]string{"kurta", "hara", "green kameez, dhaari"}, []string{"kurta"}, []string{"green"}, []string{"striped"}},
		{[]string{"neela pant", "safed t-shirt"}, []string{"trousers", "tshirt"}, []string{"blue", "white"}, nil},
	} {
		d := Read(tc.texts...)
		if !slices.Equal(d.Garments, tc.garments) || !slices.Equal(d.Colours, tc.colours) || !slices.Equal(d.Patterns, tc.patterns) {
			t.Errorf("Read(%q) = %+v, want garments %v colours %v patterns %v", tc.texts, d, tc.garments, tc.colours, tc.patterns)
		}
		if d.Empty() {
			t.Errorf("Read(%q) is empty", tc.texts)
		}
	}
}

func TestReadIgnoresWordsOutsideTheVocabulary(t *testing.T) {
	for _, s := range []string{"", "last seen near the railway station", "Ramesh", "\u200b\u200d", "।", "redness", "shirtless"} {
		if d := Read(s); !d.Empty() {
			t.Errorf("Read(%q) = %+v, want nothing", s, d)
		}
	}
}

func TestShared(t *testing.T) {
	if got := Shared([]string{"blue", "red"}, []string{"blue", "green"}); !slices.Equal(got, []string{"blue"}) {
		t.Errorf("Shared = %v, want [blue]", got)
	}
	if got := Shared([]string{"red"}, nil); got != nil {
		t.Errorf("Shared with nothing = %v, want nil", got)
	}
}

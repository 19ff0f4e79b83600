package names

import (
	"strings"
	"testing"
)

// Names as officials write them (issue 13): initials in every form,
// titles and relations in Devanagari, words run together or split, the
// inherent vowel written on one side only.
func TestOfficialsNames(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		min  Level // the level Compare must reach at least
	}{
		{"A . ARAVIND", "ए अरविंद", LevelPhonetic},    // ए is the letter A
		{"S.Velan", "एस वेलन", LevelFolded},           // एस = S
		{"VELAN.S", "S VELAN", LevelExact},            // initial after or before
		{"K.P.K. ARUL", "के पी के अरुल", LevelFolded}, // के = K, पी = P
		{"R. Chandramohan", "आर.चंद्रमोहन", LevelFolded},
		{"M. Arul", "म . अरुल", LevelFolded}, // a bare consonant and a dot
		{"K. Arul", "क। अरुल", LevelFolded},  // ... or a danda
		{"C. Sundaram", "स. सुंदरम", LevelPhonetic},
		{"(Late).R.Chandramohan", "(दिवंगत) आर.चंद्रमोहन", LevelFolded},
		{"LATE NABA HALDAR", "स्वर्गीय नब हालदार", LevelPhonetic}, // the final a written in Latin only
		{"JAWAHAR PHILIMIS", "जवहर फिलिमिस", LevelFuzzy},
		{"ARUN KUMAR", "अरुणकुमार", LevelFuzzy},
		{"Shanthipriya", "शांति प्रिया", LevelFuzzy},
		{"A. Velu", "ए वेलु", LevelFolded}, // the single name is the given name
	} {
		c := Compare([]string{tc.a}, []string{tc.b})
		if c.Level.Rank() < tc.min.Rank() {
			t.Errorf("Compare(%q, %q) = %s, want at least %s", tc.a, tc.b, c.Level, tc.min)
		}
	}
	// Initials alone, or a different initial, are weaker than the name.
	if c := Compare([]string{"Rahul S"}, []string{"Rahul K"}); c.Level == LevelNone || !c.Partial {
		t.Errorf("Rahul S / Rahul K = %+v; want agreement on Rahul, partial", c)
	}
	if c := Compare([]string{"Rahul S"}, []string{"S Rahul"}); c.Level != LevelExact || c.Partial || c.Subset {
		t.Errorf("Rahul S / S Rahul = %+v; want exact", c)
	}
	if c := Compare([]string{"Rahul"}, []string{"Rahul Sharma"}); !c.Subset || c.Partial {
		t.Errorf("Rahul / Rahul Sharma = %+v; want a subset", c)
	}
	if c := Compare([]string{"A Velu"}, []string{"K Velu"}); c.Level == LevelNone || !c.Partial {
		t.Errorf("A Velu / K Velu = %+v; want agreement on Velu, partial", c)
	}
	if c := Compare([]string{"Rahul Sharma"}, []string{"Sunil Sharma"}); c.Level != LevelNone {
		t.Errorf("Rahul Sharma / Sunil Sharma = %s; a shared family name alone is not agreement", c.Level)
	}
	// A one-word name stays a word: के alone is not an initial.
	if got := Tokens("के"); strings.Join(got, " ") != "ke" {
		t.Errorf("Tokens(के) = %q, want [ke]", got)
	}
	if got := Tokens("ए के शिवरामपिल्लै"); strings.Join(got[:2], " ") != "a k" {
		t.Errorf("Tokens(ए के शिवरामपिल्लै) = %q, want initials a, k first", got)
	}
}

func TestSearchKeysJoinAndKeepVowels(t *testing.T) {
	has := func(keys []string, k string) bool {
		for _, x := range keys {
			if x == k {
				return true
			}
		}
		return false
	}
	// Split words are findable as one, and the reverse meets them.
	if k := SearchKeys("ARUN KUMAR"); !has(k, Key("arunkumar")) {
		t.Errorf("SearchKeys(ARUN KUMAR) = %q, want the key of arunkumar", k)
	}
	// A Devanagari word is findable with its inherent vowels written.
	if k := SearchKeys("जवहर"); !has(k, Key("javahar")) {
		t.Errorf("SearchKeys(जवहर) = %q, want the key of javahar", k)
	}
	if k := SearchKeys("Rahul"); len(k) != 0 {
		t.Errorf("SearchKeys(Rahul) = %q, want none beyond its word's key", k)
	}
}

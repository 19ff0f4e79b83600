package names

import (
	"strings"
	"testing"
)

// Hostile or broken names never panic and compare safely: the API refuses
// what models.Child.Validate refuses (over-long names, too many names,
// control characters) with a 422, but Compare, Tokens and SearchKeys are
// also called on stored data and must hold on their own.
func TestCompareHostileInput(t *testing.T) {
	long := strings.Repeat("अरुण कुमार Velu ", 700)[:10000]
	word := strings.Repeat("a", 10000)
	many := make([]string, 1000)
	for i := range many {
		many[i] = "Rahul Sharma"
	}
	many[999] = "Velan"
	inputs := [][]string{
		{long}, {word}, many,
		{"Ra\u200bhul", "\u200b\u200c\u200d", "\ufeffVelan"},
		{"राहुlरा", "Rāहुल", "रা১২hul"}, // scripts mixed inside a word
		{"।"}, {"."}, {"॥ . ।"}, {"क।"}, {"\x00\x01"}, {"\xff\xfe"}, {""},
		{strings.Repeat("@ ", 5000)}, {strings.Repeat("urf ", 3000)},
		{strings.Repeat("ए ", 5000)}, {strings.Repeat("s/o ", 3000)},
	}
	for _, a := range inputs {
		for _, b := range inputs {
			c := Compare(a, b)
			if c.Level.Rank() < 0 || c.Coverage < 0 || c.Coverage > 1 {
				t.Errorf("Compare(%.20q, %.20q) = %+v: out of range", a, b, c)
			}
			if x := Closeness(a, b); x < 0 || x > 1 || Similar(a, b) && x < SimilarCloseness {
				t.Errorf("Closeness(%.20q, %.20q) = %v: out of range, or Similar disagrees", a, b, x)
			}
		}
		for _, s := range a {
			for _, tk := range Tokens(s) {
				if sk := Skeleton(Key(tk)); len(sk) > 48 {
					t.Errorf("Skeleton of a token of %.20q is %d bytes; want it bounded", s, len(sk))
				}
			}
			_ = Aliases(s)
			if k := SearchKeys(s); len(k) > 2*maxNames*maxTokens {
				t.Errorf("SearchKeys(%.20q) gave %d keys; want them bounded", s, len(k))
			}
		}
	}
	// Only the first names of a record count: the 1000th does not match.
	if c := Compare(many, []string{"Velan"}); c.Level != LevelNone {
		t.Errorf("the 1000th name of a record was compared: %+v", c)
	}
	if c := Compare(many[:1], []string{"राहुल शर्मा"}); c.Level != LevelFolded {
		t.Errorf("Rahul Sharma vs राहुल शर्मा: %s, want folded", c.Level)
	}
}

func TestPunctuationAndInvisibleCharacters(t *testing.T) {
	for _, s := range []string{"।", ".", "॥", "( )", "/", ",", "Shri", "S/O", "(दिवंगत)", "स्वर्गीय", "श्रीमती"} {
		if got := Tokens(s); len(got) != 0 {
			t.Errorf("Tokens(%q) = %q; a title, relation or punctuation alone identifies no one", s, got)
		}
		if c := Compare([]string{s}, []string{s}); c.Level != LevelNone {
			t.Errorf("Compare(%q, %q) = %s; want none", s, s, c.Level)
		}
	}
	for in, want := range map[string][]string{
		"Ra\u200bhul":     {"rahul"}, // a zero-width space inside a word
		"\ufeffVelan":     {"velan"},
		"Pri\u00adya":     {"priya"}, // soft hyphen
		"RAVI, S.":        {"ravi", "s"},
		"K.P.K. ARUL":     {"k", "p", "k", "arul"},
		"VELAN.S":         {"velan", "s"},
		"(Late) R. Velan": {"r", "velan"},
	} {
		if got := Tokens(in); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("Tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

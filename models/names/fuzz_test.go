package names

import "testing"

// FuzzNames checks, on any input, that nothing panics, Fold is
// idempotent, Tokens are folded, and Compare is symmetric.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"Rahul Kumar", "राहुल", "শ্রাবন্তী", "ਸਿੰਘ", "ஸ்ரீதேவி", "അർജുൻ", "Raju urf Rajkumar", "R.K. Verma", "B/o Rekha", "্্া", "ँंः"} {
		f.Add(s, "Rahul Sharma")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa := Fold(a)
		if Fold(fa) != fa {
			t.Errorf("Fold not idempotent on %q: %q, then %q", a, fa, Fold(fa))
		}
		for _, tok := range Tokens(a) {
			if tok == "" || Fold(tok) != tok {
				t.Errorf("Tokens(%q) has unfolded token %q", a, tok)
			}
			_ = Key(tok)
		}
		ab, ba := Compare([]string{a}, []string{b}), Compare([]string{b}, []string{a})
		if ab.Level != ba.Level {
			t.Errorf("Compare(%q, %q) = %s, reversed %s", a, b, ab.Level, ba.Level)
		}
	})
}

package names

import (
	"math"
	"strings"
	"testing"
)

func TestCompareLevels(t *testing.T) {
	for _, tc := range []struct {
		a, b    []string
		want    Level
		partial bool
		why     string
	}{
		{[]string{"Rahul"}, []string{"RAHUL"}, LevelExact, false, "case only"},
		{[]string{"राहुल"}, []string{"Rahul"}, LevelFolded, false, "script"},
		{[]string{"রাহুল"}, []string{"राहुल"}, LevelFolded, false, "script to script"},
		{[]string{"Rāhul"}, []string{"Rahul"}, LevelFolded, false, "diacritics"},
		{[]string{"Pooja"}, []string{"Puja"}, LevelPhonetic, false, "vowel length"},
		{[]string{"Shaikh Salim"}, []string{"Salim Sheikh"}, LevelPhonetic, false, "order and spelling"},
		{[]string{"Kumar Rahul"}, []string{"Rahul"}, LevelExact, false, "Kumar dropped"},
		{[]string{"Rahul"}, []string{"Rahul Sharma"}, LevelExact, false, "family name on one side only"},
		{[]string{"Michael"}, []string{"Micheal"}, LevelFuzzy, false, "swapped letters"},
		{[]string{"Ramesh"}, []string{"Ramesha"}, LevelFuzzy, false, "southern final vowel"},
		{[]string{"R. Sharma"}, []string{"Rahul Sharma"}, LevelInitial, false, "initial"},
		{[]string{"S. K. Gupta"}, []string{"Sanjay Kumar Gupta"}, LevelInitial, false, "initials, Kumar dropped"},
		{[]string{"R. Sharma"}, []string{"Sunil Sharma"}, LevelNone, false, "initial disagrees"},
		{[]string{"Rahul Sharma"}, []string{"Sunil Sharma"}, LevelNone, false, "only the family agrees"},
		{[]string{"Sharma"}, []string{"Rahul Sharma"}, LevelNone, false, "only the family, a given name left"},
		{[]string{"Priya Sharma"}, []string{"Priya Verma"}, LevelExact, true, "family names disagree"},
		{[]string{"Rahul"}, []string{"Rohit"}, LevelNone, false, "near miss"},
		{[]string{"Ravi"}, []string{"Rani"}, LevelNone, false, "near miss"},
		{[]string{"Mohan"}, []string{"Sohan"}, LevelNone, false, "first letter"},
		{[]string{"Amit"}, []string{"Amrit"}, LevelNone, false, "a consonant more"},
		{[]string{"Ankit"}, []string{"Ankita"}, LevelNone, false, "short name, final vowel"},
		{[]string{"Raju urf Rajkumar"}, []string{"Rajkumar"}, LevelExact, false, "alias"},
		{[]string{"Raj Kumar"}, []string{"Rajkumar"}, LevelFolded, false, "written together"},
		{[]string{"Senthil Kumar"}, []string{"Senthilkumar"}, LevelFolded, false, "written together, soft word"},
		{[]string{"கீதா"}, []string{"Geetha"}, LevelPhonetic, false, "Tamil writes k for g"},
		{[]string{"Golu", "Gaurav"}, []string{"Gaurav Sharma"}, LevelExact, false, "second name of a record"},
		{[]string{"Unknown"}, []string{"Unknown"}, LevelNone, false, "nothing identifies"},
		{nil, []string{"Rahul"}, LevelNone, false, "no name"},
	} {
		c := Compare(tc.a, tc.b)
		if c.Level != tc.want || c.Partial != tc.partial {
			t.Errorf("Compare(%q, %q) = %s partial=%v, want %s partial=%v (%s); matched %v",
				tc.a, tc.b, c.Level, c.Partial, tc.want, tc.partial, tc.why, c.Matched)
		}
	}
}

func TestCompareReportsWhatMatched(t *testing.T) {
	c := Compare([]string{"Pappu", "Md. Salim Shaikh"}, []string{"Salim Sheikh"})
	if c.Level != LevelPhonetic || c.A != "Md. Salim Shaikh" || c.B != "Salim Sheikh" {
		t.Fatalf("Compare = %s between %q and %q, want phonetic between the second name and Salim Sheikh", c.Level, c.A, c.B)
	}
	want := []TokenMatch{{A: "Salim", B: "Salim", Level: LevelExact}, {A: "Shaikh", B: "Sheikh", Level: LevelPhonetic}}
	if len(c.Matched) != len(want) {
		t.Fatalf("Matched = %v, want %v", c.Matched, want)
	}
	for i := range want {
		if c.Matched[i] != want[i] {
			t.Errorf("Matched[%d] = %v, want %v", i, c.Matched[i], want[i])
		}
	}
	if math.Abs(c.Coverage-0.8) > 1e-9 { // 2 matched of 3 + 2 tokens
		t.Errorf("Coverage = %v, want 0.8", c.Coverage)
	}
	f := Compare([]string{"Michael"}, []string{"Micheal"})
	if len(f.Matched) != 1 || f.Matched[0].Distance != 1 {
		t.Errorf("Michael/Micheal matched %v, want one fuzzy pair at distance 1", f.Matched)
	}
}

// TestCompareIsSymmetric runs every labelled pair both ways.
func TestCompareIsSymmetric(t *testing.T) {
	for _, p := range loadPairs(t) {
		ab, ba := Compare(p.a, p.b), Compare(p.b, p.a)
		if ab.Level != ba.Level || ab.Partial != ba.Partial {
			t.Errorf("Compare(%q, %q) = %s/%v but reversed %s/%v", p.a, p.b, ab.Level, ab.Partial, ba.Level, ba.Partial)
		}
	}
}

func TestSpellingDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"rahul", "rahul", 0},
		{"michael", "micheal", 1}, // swap
		{"kamla", "kamala", 1},    // vowel added
		{"senthil", "sendhil", 1}, // t/d
		{"gudiya", "guriya", 1},   // d/r
		{"ruksar", "rukhsar", 1},  // h
		{"ramesh", "ramesha", 1},  // final vowel, six letters
		{"ankit", "ankita", 2},    // final vowel, five letters
		{"karan", "kiran", 2},     // far vowels
		{"reshma", "reshmi", 2},   // final vowel changed
		{"emmanuel", "immanuel", 2},
		{"ravi", "rani", 3}, // consonant
		{"mohan", "sohan", 3},
		{"amit", "amrit", 3},
	} {
		if got := spellingDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("spellingDistance(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := spellingDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("spellingDistance(%s, %s) = %d, want %d (reversed)", tc.b, tc.a, got, tc.want)
		}
		for k := 0; k <= 3; k++ {
			if got := spellingWithin(tc.a, tc.b, k); (got <= k) != (tc.want <= k) {
				t.Errorf("spellingWithin(%s, %s, %d) = %d, distance is %d", tc.a, tc.b, k, got, tc.want)
			}
		}
	}
	for n, want := range map[int]int{2: 0, 3: 0, 4: 1, 6: 1, 7: 2, 12: 2} {
		if got := maxEdits(n); got != want {
			t.Errorf("maxEdits(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestLevelRank(t *testing.T) {
	ls := Levels()
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Rank() <= ls[i].Rank() {
			t.Errorf("%s ranks %d, not above %s (%d)", ls[i-1], ls[i-1].Rank(), ls[i], ls[i].Rank())
		}
	}
	if Level("bogus").Rank() != LevelNone.Rank() {
		t.Errorf("an unknown level should rank as none")
	}
}

func TestCompareInitialsLevel(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want InitialsLevel
	}{
		{"S. Velan", "Velan S", InitialsAgree},
		{"S.Velan", "एस वेलन", InitialsAgree},
		{"जी. वडिवेल", "G. Vadivel", InitialsAgree}, // जी opening a name is G, not the honorific
		{"R Sharma", "Rahul Sharma", InitialsAgree},
		{"Rahul S", "Rahul K", InitialsConflict},
		{"K.P. Arul", "K.R. Arul", InitialsMixed},
		{"Rahul S", "Rahul", ""},
		{"Rahul", "Rahul", ""},
		{"Rahul S", "Suresh K", ""}, // the names do not agree: no initials evidence
	} {
		if got := Compare([]string{tt.a}, []string{tt.b}).Initials; got != tt.want {
			t.Errorf("Compare(%q, %q).Initials = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
	if got := Tokens("Gandhi ji"); len(got) != 1 || got[0] != "gandhi" {
		t.Errorf("Tokens(Gandhi ji) = %q: the honorific after a name is dropped", got)
	}
}

func TestClosenessOrdersEqualNames(t *testing.T) {
	q := []string{"के एम् चन्द्रन"}
	full, part := Closeness(q, []string{"K M CHANDRAN"}), Closeness(q, []string{"Chandran K"})
	if !(full > part) || full != 1 {
		t.Errorf("Closeness: K M CHANDRAN %v, Chandran K %v; want 1 and less", full, part)
	}
	if c := Closeness([]string{"Govindan K"}, []string{"K. Govindan"}); c != 1 {
		t.Errorf("Closeness ignores order: got %v, want 1", c)
	}
	if c := Closeness([]string{""}, []string{"Ravi"}); c != 0 {
		t.Errorf("Closeness with an empty name = %v, want 0", c)
	}
	long := strings.Repeat("अ", 10000)
	if c := Closeness([]string{long}, []string{strings.Repeat("a", 10000)}); c < 0 || c > 1 {
		t.Errorf("Closeness of hostile names = %v, want within [0, 1]", c)
	}
}

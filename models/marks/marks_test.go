package marks

import (
	"fmt"
	"strings"
	"testing"
)

// m is shorthand for an expected mark without its text.
func m(typ, side, part string) Mark { return Mark{Type: typ, Side: side, Part: part} }

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		want []Mark
	}{
		// English, as written by police and CWCs.
		{"black mole on left cheek", []Mark{m("mole", "left", "cheek")}},
		{"til on left side of face", []Mark{m("mole", "left", "face")}},
		{"A black mole on the left hand side of the face", []Mark{m("mole", "left", "face")}},
		{"mole on left cheek, scar on right knee", []Mark{m("mole", "left", "cheek"), m("scar", "right", "knee")}},
		{"MOLE ON RT CHEEK & CUT MARK ON FOREHEAD", []Mark{m("mole", "right", "cheek"), m("cut", "", "forehead")}},
		{"Mole on Rt. Side of Face & Scar on Lt. Knee", []Mark{m("mole", "right", "face"), m("scar", "left", "knee")}},
		{"mole on lt. cheek", []Mark{m("mole", "left", "cheek")}},
		{"Mole (black, small) on rt. side of neck", []Mark{m("mole", "right", "neck")}},
		{"mole near left eye", []Mark{m("mole", "left", "eye")}},
		{"mole on cheek below left eye", []Mark{m("mole", "left", "cheek")}},
		{"cut mark over right eyebrow", []Mark{m("cut", "right", "eyebrow")}},
		{"scar on left hand and right knee", []Mark{m("scar", "left", "hand"), m("scar", "right", "knee")}},
		{"left cheek mole right knee scar", []Mark{m("mole", "left", "cheek"), m("scar", "right", "knee")}},
		{"mole left cheek scar right knee", []Mark{m("mole", "left", "cheek"), m("scar", "right", "knee")}},
		{"mole left cheek/scar right knee", []Mark{m("mole", "left", "cheek"), m("scar", "right", "knee")}},
		{"Identification marks: mole on L cheek; burn mark on R forearm", []Mark{m("mole", "left", "cheek"), m("burn", "right", "arm")}},
		{"1. Black til near nose 2. Burn mark on left hand", []Mark{m("mole", "", "nose"), m("burn", "left", "hand")}},
		{"two moles on back", []Mark{m("mole", "", "back")}},
		{"scar on both knees", []Mark{m("scar", "", "knee")}},
		{"white patch on neck", []Mark{m("patch", "", "neck")}},
		{"Operation scar on stomach", []Mark{m("scar", "", "stomach")}},
		{"stitch marks on right eyebrow", []Mark{m("scar", "right", "eyebrow")}},
		{"small brown birth mark at the back of right shoulder", []Mark{m("birthmark", "right", "shoulder")}},
		{"a pair of moles on back of the neck", []Mark{m("mole", "", "neck")}},
		{"bright red birthmark on neck", []Mark{m("birthmark", "", "neck")}},              // "bright" is not a typo of "right"
		{"tattoo 'OM' on right hand", []Mark{m("tattoo", "right", "hand")}},               // tattoo text kept
		{"scar on forhead", []Mark{m("scar", "", "forehead")}},                            // one typo in a long word
		{"left cheek, mole", []Mark{m("mole", "left", "cheek")}},                          // place before the type
		{"daag on face", []Mark{m("mark", "", "face")}},                                   // generic mark with a place
		{"mole on right cheek. Mole on right cheek", []Mark{m("mole", "right", "cheek")}}, // duplicate
		{"mole. mole on chin", []Mark{m("mole", "", "chin")}},                             // bare type dropped next to a placed one
		{"light brown mole", []Mark{m("mole", "", "")}},
		{"mole on face (left side)", []Mark{m("mole", "left", "face")}},
		{"Lt. eye brow mole", []Mark{m("mole", "left", "eyebrow")}},
		{"small black mole on right ear lobe", []Mark{m("mole", "right", "ear")}},
		{"Burn marks on both hands and chest", []Mark{m("burn", "", "hand"), m("burn", "", "chest")}},
		{"scar on right hand finger", []Mark{m("scar", "right", "finger")}},
		{"Two moles one on left cheek another on chin", []Mark{m("mole", "left", "cheek"), m("mole", "", "chin")}},
		{"Rt hand side of face", nil}, // a place, but no mark
		// Hindi in Latin letters.
		{"jalne ka nishan daayan haath", []Mark{m("burn", "right", "hand")}},
		{"jale ka nishan baayen pair par", []Mark{m("burn", "left", "leg")}},
		{"baayen gaal par til aur daayen ghutne par chot ka nishan", []Mark{m("mole", "left", "cheek"), m("scar", "right", "knee")}},
		{"janam ka nishan peeth par", []Mark{m("birthmark", "", "back")}},
		{"lahsun on right thigh", []Mark{m("birthmark", "right", "thigh")}},
		{"masa on rt side of nose", []Mark{m("wart", "right", "nose")}},
		{"daayen kaan ke paas massa", []Mark{m("wart", "right", "ear")}},
		{"chot ka nishan sir par", []Mark{m("scar", "", "head")}},
		{"mathe par chot ka nishan", []Mark{m("scar", "", "forehead")}},
		{"maatha pe nishaan", []Mark{m("mark", "", "forehead")}},
		{"pet par operation ka nishan", []Mark{m("scar", "", "stomach")}},
		{"til in gardan", []Mark{m("mole", "", "neck")}},
		{"baayi aankh ke neeche til", []Mark{m("mole", "left", "eye")}},
		{"ulte haath par til", []Mark{m("mole", "left", "hand")}},
		{"seedhe haath ki kalai par gudna", []Mark{m("tattoo", "right", "wrist")}},
		{"Kala til dahine gaal par, chot ka nishan baayi kohni par", []Mark{m("mole", "right", "cheek"), m("scar", "left", "elbow")}},
		{"bayan paon mein jalne ka daag, dayan gaal par kala til", []Mark{m("burn", "left", "leg"), m("mole", "right", "cheek")}},
		{"pair ki ungli par chot", []Mark{m("scar", "", "toe")}},
		{"masa on lt. pair ka talwa", []Mark{m("wart", "left", "foot")}}, // a clause break inside the place
		// Devanagari.
		{"बाएं गाल पर तिल", []Mark{m("mole", "left", "cheek")}},
		{"दाहिने हाथ पर जलने का निशान। माथे पर चोट का निशान", []Mark{m("burn", "right", "hand"), m("scar", "", "forehead")}},
		{"ठोड़ी पर तिल", []Mark{m("mole", "", "chin")}}, // ड़ precomposed (U+095C)
		{"ठोड़ी पर तिल", []Mark{m("mole", "", "chin")}}, // ड + nukta
		// Odd Unicode.
		{"ｍｏｌｅ ｏｎ ｌｅｆｔ ｃｈｅｅｋ", []Mark{m("mole", "left", "cheek")}},            // full-width
		{"molé on léft chéek", []Mark{m("mole", "left", "cheek")}},            // accents
		{"Mole on Lef\u200ct\u00a0cheek", []Mark{m("mole", "left", "cheek")}}, // joiner inside a word, no-break space
		{"mole on left cheek 🙂\xff\xfe", []Mark{m("mole", "left", "cheek")}},  // emoji, invalid UTF-8
		// No marks.
		{"", nil},
		{"No identification marks", nil},
		{"nil", nil},
		{"N/A", nil},
		{"NA", nil},
		{"Not known", nil},
		{"koi nishan nahi", nil},
		{"कोई निशान नहीं", nil},
		{"spot", nil},                   // a generic mark with no place says nothing
		{"left hand mein 6 ungli", nil}, // not a mark this package knows
		{"scar on left hand, no other marks", []Mark{m("scar", "left", "hand")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := Parse(tt.text)
			for i := range got {
				if got[i].Text == "" || !strings.Contains(tt.text, got[i].Text) {
					t.Errorf("mark %d text %q is not a phrase of the description", i, got[i].Text)
				}
				got[i].Text = ""
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Parse(%q)\n got %v\nwant %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"black mole on left cheek", []string{"black mole on left cheek"}},
		{"mole on left cheek, scar on right knee", []string{"mole on left cheek", "scar on right knee"}},
		{"mole left cheek, brown scar right knee", []string{"mole left cheek", "brown scar right knee"}},
		{"mole on lt. cheek", []string{"mole on lt. cheek"}},
		{"1) mole on left cheek 2) tattoo 786 on right hand.", []string{"mole on left cheek", "tattoo 786 on right hand"}},
		{"tattoo 786.", []string{"tattoo 786"}},
		{"- small mole near nose", []string{"small mole near nose"}},
		{"mole on face (left side), scar (right knee)", []string{"mole on face (left side)", "scar (right knee)"}},
	}
	for _, tt := range tests {
		var got []string
		for _, mk := range Parse(tt.text) {
			got = append(got, mk.Text)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("Parse(%q) texts = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestParseBounded(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "mole on cheek %d, scar on knee %d, ", i, i)
	}
	// Distinct marks are few; a description listing many places is capped.
	parts := []string{"cheek", "chin", "nose", "ear", "neck", "hand", "arm", "leg", "knee", "foot", "back", "chest"}
	for _, typ := range []string{"mole", "scar", "burn", "tattoo"} {
		for _, side := range []string{"left", "right", ""} {
			for _, p := range parts {
				fmt.Fprintf(&b, "%s on %s %s, ", typ, side, p)
			}
		}
	}
	if got := Parse(b.String()); len(got) != MaxMarks {
		t.Errorf("Parse of a long list gave %d marks, want the cap %d", len(got), MaxMarks)
	}
}

func TestRegion(t *testing.T) {
	tests := map[string]string{
		"cheek": "face", "forehead": "face", "chin": "face", "nose": "face", "eye": "face", "ear": "face", "lip": "face", "face": "face",
		"hand": "hand", "finger": "hand", "palm": "hand", "wrist": "hand", "thumb": "hand",
		"arm": "arm", "elbow": "arm", "shoulder": "arm",
		"leg": "leg", "knee": "leg", "foot": "leg", "thigh": "leg", "ankle": "leg", "toe": "leg",
		"chest": "torso", "stomach": "torso", "back": "torso", "waist": "torso",
		"neck": "neck", "head": "head", "scalp": "head",
		"": "", "tail": "", "Cheek": "",
	}
	for part, want := range tests {
		if got := Region(part); got != want {
			t.Errorf("Region(%q) = %q, want %q", part, got, want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string // descriptions of one mark each
		want Agreement
	}{
		{"mole on left cheek", "til baayen gaal par", Agreement{Same, Same, Same}},
		{"black mole on left cheek", "til on left side of face", Agreement{Same, Akin, Same}},
		{"mole near left eye", "mole on left cheek", Agreement{Same, Akin, Same}},
		{"mole on left cheek", "mole on cheek", Agreement{Same, Same, Unstated}},
		{"scar right hand", "scar left hand", Agreement{Same, Same, Differ}},
		{"scar on hand", "scar on left finger", Agreement{Same, Akin, Unstated}},
		{"mole on forehead", "mole on chin", Agreement{Same, Differ, Same}},
		{"mole on cheek", "mole on knee", Agreement{Same, Differ, Same}},
		{"masa on nose", "til on nose", Agreement{Akin, Same, Same}},
		{"nishan on nose", "scar on nose", Agreement{Akin, Same, Same}},
		{"tattoo on arm", "mole on arm", Agreement{Differ, Same, Same}},
		{"mole", "mole on left cheek", Agreement{Same, Unstated, Unstated}},
	}
	for _, tt := range tests {
		a, b := Parse(tt.a), Parse(tt.b)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("want one mark each from %q and %q, got %v and %v", tt.a, tt.b, a, b)
		}
		if got := Compare(a[0], b[0]); got != tt.want {
			t.Errorf("Compare(%q, %q) = %+v, want %+v", tt.a, tt.b, got, tt.want)
		}
		if got, back := Compare(a[0], b[0]), Compare(b[0], a[0]); got != back {
			t.Errorf("Compare(%q, %q) is not symmetric: %+v and %+v", tt.a, tt.b, got, back)
		}
	}
}

func TestMarkString(t *testing.T) {
	tests := map[Mark]string{
		m("mole", "left", "cheek"): "mole on the left cheek",
		m("mole", "left", "face"):  "mole on the left side of the face",
		m("wart", "right", "nose"): "wart on the right side of the nose",
		m("scar", "", "knee"):      "scar on the knee",
		m("burn", "right", ""):     "burn on the right side",
		m("tattoo", "", ""):        "tattoo (place not stated)",
	}
	for mk, want := range tests {
		if got := mk.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", mk, got, want)
		}
	}
}

// TestLexicon checks the word lists load, and that the folding that makes
// "baayan" and "bayan" one word has not made two words of different
// meaning one (the loader refuses such a clash).
func TestLexicon(t *testing.T) {
	lx, err := loadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"til", "nishan", "baayan", "daayan", "haath", "gaal", "peeth", "gardan"} {
		if _, n := lx.lookup([]string{normalizeWord(w)}, 0); n == 0 {
			t.Errorf("%q is not in the lexicon", w)
		}
	}
	for _, ps := range lx.byFirst {
		for _, p := range ps {
			if p.kind == kindPart && lx.region[p.value] == "" {
				t.Errorf("part %q has no region", p.value)
			}
		}
	}
}

func TestNormalizeWord(t *testing.T) {
	tests := map[string]string{
		"Baayan": "bayan", "NISHAAN": "nishan", "peeth": "pith", "aankh": "ankh", "Mole": "mole",
		"ｍｏｌｅ": "mole", "chéek": "chik", "गाल": "गाल", "le\u200cft": "left",
	}
	for in, want := range tests {
		if got := normalizeWord(in); got != want {
			t.Errorf("normalizeWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithinOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"forhead", "forehead", true}, {"sholder", "shoulder", true}, {"shuolder", "shoulder", true},
		{"stomach", "stomach", true}, {"stomahc", "stomach", true}, {"bright", "right", true},
		{"stumuch", "stomach", false}, {"forearm", "forehead", false}, {"", "ab", false},
	}
	for _, tt := range tests {
		if got := withinOneEdit(tt.a, tt.b); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("mole on left cheek, scar on right knee")
	f.Add("बाएं गाल पर तिल")
	f.Add("1. til 2. ")
	f.Fuzz(func(t *testing.T, s string) {
		ms := Parse(s)
		if len(ms) > MaxMarks {
			t.Fatalf("%d marks", len(ms))
		}
		for _, mk := range ms {
			if mk.Type == "" {
				t.Fatalf("mark without a type: %#v", mk)
			}
			if mk.Part != "" && Region(mk.Part) == "" {
				t.Fatalf("part %q has no region", mk.Part)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		Parse("black mole on left cheek, jalne ka nishan daayan haath; scar on right knee")
	}
}

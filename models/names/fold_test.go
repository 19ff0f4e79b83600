package names

import "testing"

func TestFoldLatin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Rahul", "rahul"},
		{"  RAHUL  kumar ", "rahul kumar"},
		{"Rāhul Śarmā", "rahul sarma"},
		{"José Fernandes", "jose fernandes"},
		{"Straße", "strasse"},
		{"D'Souza", "dsouza"},
		{"D’Cruz", "dcruz"},
		{"Mohd.Salim", "mohd salim"},
		{"R.K. Verma", "r k verma"},
		{"Abdul-Rahman", "abdul rahman"},
		{"s/o Ramesh", "s o ramesh"},
		{"Pappu @ Vikas", "pappu vikas"},
		{"ＲＡＨＵＬ", "rahul"}, // full-width, NFKD
		{"", ""},
		{" -- ", ""},
		{"rahul sharma", "rahul sharma"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFoldInherentVowel covers schwa deletion: word-final, after
// conjuncts, Hindi-like nasal and r clusters, medial VC_CV.
func TestFoldInherentVowel(t *testing.T) {
	for _, tc := range []struct{ in, want, why string }{
		{"राम", "ram", "final schwa deleted"},
		{"मोहन", "mohan", "final deleted, medial kept before a dead consonant"},
		{"कमला", "kamla", "medial VC_CV"},
		{"जगदीश", "jagdish", "medial VC_CV"},
		{"अमरनाथ", "amarnath", "right to left: one of two"},
		{"मनमोहन", "manmohan", "medial"},
		{"हरप्रीत", "harprit", "deleted before a C+r onset"},
		{"मोहम्मद", "mohammad", "kept before a geminate"},
		{"वंदना", "vandana", "kept after an anusvara"},
		{"चाँदनी", "chandni", "deleted after a chandrabindu"},
		{"कृष्ण", "krishna", "kept after a conjunct"},
		{"सूर्य", "surya", "kept after a conjunct ending in y"},
		{"नरेन्द्र", "narendra", "kept after a conjunct ending in r"},
		{"मिश्रा", "mishra", "explicit a"},
		{"अनंत", "anant", "Hindi drops it after an anusvara"},
		{"अनन्त", "anant", "Hindi drops it after a nasal conjunct"},
		{"पार्थ", "parth", "Hindi drops it after r"},
		{"পার্থ", "partha", "Bengali keeps it after r"},
		{"প্রশান্ত", "prashanta", "Bengali keeps it after a nasal conjunct"},
		{"মমতা", "mamata", "Bengali keeps medial schwa"},
		{"ମମତା", "mamata", "Odia keeps medial schwa"},
		{"ಮಂಜುನಾಥ", "manjunatha", "Kannada spells the spoken final vowel"},
		{"వెంకట", "venkata", "Telugu too"},
		{"ರಮೇಶ್", "ramesh", "explicit virama"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%s) = %q, want %q (%s)", tc.in, got, tc.want, tc.why)
		}
	}
}

func TestFoldSigns(t *testing.T) {
	for _, tc := range []struct{ in, want, why string }{
		{"फ़रहान", "farhan", "nukta ph → f (decomposed)"},
		{"\u095eरहान", "farhan", "nukta, precomposed U+095E"},
		{"ज़ैनब", "zainab", "nukta j → z"},
		{"क़ासिम", "qasim", "nukta k → q"},
		{"गुड़िया", "guriya", "nukta d → r"},
		{"शंकर", "shankar", "anusvara n before k"},
		{"संपत", "sampat", "anusvara m before p"},
		{"सिंह", "singh", "anusvara before a final h"},
		{"ਸਿੰਘ", "singh", "Gurmukhi tippi"},
		{"दुःख", "duhkh", "visarga"},
		{"ज्ञान", "gyan", "jñ in the north"},
		{"પ્રજ્ઞેશ", "pragnesh", "jñ in Gujarati"},
		{"ऋषि", "rishi", "vocalic r"},
		{"કૃણાલ", "krunal", "Gujarati vocalic r is ru"},
		{"ତୃପ୍ତି", "trupti", "Odia vocalic r is ru"},
		{"पूजा", "puja", "long vowels lose length"},
		{"सुनीता", "sunita", ""},
		{"गौरव", "gaurav", "au"},
		{"সৌরভ", "sourabh", "Bengali ou"},
		{"१२३", "123", "digits"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%s) = %q, want %q (%s)", tc.in, got, tc.want, tc.why)
		}
	}
}

func TestFoldPerScriptLetters(t *testing.T) {
	for _, tc := range []struct{ in, want, why string }{
		{"বিকাশ", "bikash", "Bengali ব is b"},
		{"স্বপন", "swapan", "Bengali ব after a consonant is w"},
		{"বিশ্বজিৎ", "bishwajit", "ব-phala w, khanda ta"},
		{"যমুনা", "jamuna", "Bengali য is j"},
		{"শ্যামল", "shyamal", "Bengali য after a consonant is y"},
		{"জয়", "jay", "Bengali য় is y"},
		{"শ্রাবন্তী", "shrabanti", ""},
		{"ଯମୁନା", "jamuna", "Odia ଯ is j"},
		{"ବିଶ୍ୱଜିତ୍", "bishwajit", "Odia ୱ"},
		{"ਹਰਪ੍ਰੀਤ ਕੌਰ", "harprit kaur", "Gurmukhi"},
		{"ਜਸਵਿੰਦਰ", "jasvindar", ""},
		{"முருகன்", "murugan", "Tamil k between vowels is g"},
		{"அன்பு", "anbu", "Tamil p after a nasal is b"},
		{"சரவணன்", "saravanan", "Tamil c at the start is s"},
		{"செல்வி", "selvi", "Tamil v after l"},
		{"லட்சுமி", "lakshumi", "Tamil ட்ச is ksh"},
		{"வெற்றிவேல்", "vetrivel", "Tamil ற்ற is tr"},
		{"கார்த்திக்", "karthik", "Tamil geminate த்த is th"},
		{"பிரியா", "priya", "Tamil initial பி before ர"},
		{"கீதா", "kitha", "Tamil: k, and th for த"},
		{"ஸ்ரீதேவி", "srithevi", "grantha letters"},
		{"రమేష్", "ramesh", "Telugu"},
		{"హరిత", "haritha", "Dravidian t is written th"},
		{"അർജുൻ", "arjun", "Malayalam chillu letters"},
		{"ആന്റണി", "antani", "Malayalam ന്റ is nt"},
		{"ശ്രീക്കുട്ടി", "shrikkutti", ""},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%s) = %q, want %q (%s)", tc.in, got, tc.want, tc.why)
		}
	}
}

func TestFoldScriptsMeet(t *testing.T) {
	for _, s := range []string{"Rahul", "RAHUL", "राहुल", "রাহুল", "ਰਾਹੁਲ", "રાહુલ", "ରାହୁଲ", "ராஹுல்", "రాహుల్", "ರಾಹುಲ್", "രാഹുൽ"} {
		if got := Fold(s); got != "rahul" {
			t.Errorf("Fold(%s) = %q, want rahul", s, got)
		}
	}
}

func TestFoldNormalisesInput(t *testing.T) {
	// Bengali ো typed as its two parts, ে + া, is the same letter.
	composed, decomposed := "মোহন", "ম\u09c7\u09beহন"
	if a, b := Fold(composed), Fold(decomposed); a != b || a != "mohan" {
		t.Errorf("Fold(composed) = %q, Fold(decomposed) = %q, want both mohan", a, b)
	}
	for _, s := range []string{"Rāhul Kumar", "राहुल कुमार", "ஸ்ரீதேவி", "D'Souza"} {
		if f := Fold(s); Fold(f) != f {
			t.Errorf("Fold is not idempotent on %q: %q then %q", s, f, Fold(f))
		}
	}
}

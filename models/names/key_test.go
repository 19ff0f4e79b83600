package names

import "testing"

// TestKeyJoinsVariants: every spelling in a group gets one key.
func TestKeyJoinsVariants(t *testing.T) {
	for _, group := range [][]string{
		{"Shaikh", "Sheikh", "Shekh", "Shaik", "Sk"},
		{"Mohammad", "Mohammed", "Muhammad", "Mohamad", "Mohamed", "Md", "Mohd"},
		{"Pooja", "Puja", "पूजा"},
		{"Lakshmi", "Laxmi", "Lakshmee"},
		{"Deepak", "Dipak"},
		{"Vijay", "Wijay", "Bijay", "Vijai", "Bijoy"},
		{"Sanjeev", "Sanjiv"},
		{"Farhan", "Pharhan"},
		{"Zainab", "Jainab"},
		{"Chaudhary", "Choudhury", "Chowdhury", "Chaudhari"},
		{"Shankar", "Sankar"},
		{"Sarkar", "Sircar"},
		{"Geeta", "Gita", "Geetha"},
		{"Sita", "Seeta"},
		{"Rajesh", "Rajish"},
		{"Rajinder", "Rajender", "Rajendra"},
		{"Sanjay", "Sanjoy", "Sanjai"},
		{"Bunty", "Bunti"},
		{"Pandey", "Pande"},
		{"Rafiq", "Rafique"},
		{"Sai", "Sayi"},
		{"Trupti", "Tripti"},
		{"Gaurav", "Gourav"},
		{"Vikas", "Bikash"},
		{"Pandian", "Pandiyan"},
		{"Palani", "Pazhani"},
		{"Qasim", "Kasim"},
		{"Chhotu", "Chotu"},
		{"Mohammad", "मोहम्मद", "মোহাম্মদ"},
	} {
		want := Key(group[0])
		for _, v := range group[1:] {
			if got := Key(v); got != want {
				t.Errorf("Key(%s) = %q, Key(%s) = %q: want one key", group[0], want, v, got)
			}
		}
	}
}

// TestKeyKeepsNamesApart: different names, often confused, keep their
// own keys.
func TestKeyKeepsNamesApart(t *testing.T) {
	for _, p := range [][2]string{
		{"Rahul", "Rohit"}, {"Anil", "Sunil"}, {"Ravi", "Rani"}, {"Mohan", "Sohan"},
		{"Amit", "Amrit"}, {"Suman", "Sumana"}, {"Mohammad", "Mahmood"},
		{"Manish", "Manisha"}, {"Francis", "Frances"}, {"Ankit", "Ankita"},
		{"Harpreet", "Gurpreet"}, {"Raja", "Raju"}, {"Rehman", "Raman"},
	} {
		if a, b := Key(p[0]), Key(p[1]); a == b {
			t.Errorf("Key(%s) = Key(%s) = %q: want different keys", p[0], p[1], a)
		}
	}
}

// TestKeyRules pins single rules on the key itself.
func TestKeyRules(t *testing.T) {
	for _, tc := range []struct{ in, want, rule string }{
		{"bhavna", "babna", "bh→b, v→b"},
		{"dharmendra", "darmindr", "dh→d, -endra"},
		{"ghanshyam", "gansyam", "gh→g, sh→s"},
		{"khushi", "kusi", "kh→k"},
		{"jhanvi", "janbi", "jh→j"},
		{"thomas", "tomas", "th→t"},
		{"phulmani", "fulmani", "ph→f"},
		{"zubair", "jubair", "z→j"},
		{"iqbal", "ikbal", "q→k"},
		{"lakshmi", "laxmi", "ksh→x"},
		{"rukhsar", "ruksar", "kh before s is not x"},
		{"chhaya", "caya", "chh→c"},
		{"christopher", "kristofer", "chr→kr"},
		{"lucy", "lusi", "c before y is s"},
		{"aarti", "arti", "aa→a"},
		{"seema", "sima", "ee→i"},
		{"noor", "nur", "oo→u"},
		{"sourav", "saurab", "ou→au"},
		{"chowdhury", "caudari", "ow→au, class"},
		{"sheikh", "saik", "ei→ai"},
		{"pinky", "pinki", "final y"},
		{"mariyappan", "mariapan", "iy before a vowel, doubles"},
		{"shah", "sa", "final h after a vowel"},
		{"sinha", "sina", "h after a consonant"},
		{"amrut", "amrit", "ru between consonants"},
		{"haresh", "haris", "-esh→-ish"},
		{"ramesh", "ramis", "-esh→-ish"},
	} {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%s) = %q, want %q (%s)", tc.in, got, tc.want, tc.rule)
		}
	}
}

func TestKeyFoldsUnfoldedInput(t *testing.T) {
	if Key("") != "" {
		t.Errorf("Key(\"\") = %q, want empty", Key(""))
	}
	if a, b := Key("SHEIKH"), Key("sheikh"); a != b {
		t.Errorf("Key(SHEIKH) = %q, Key(sheikh) = %q", a, b)
	}
	if a, b := Key("राहुल"), Key("rahul"); a != b {
		t.Errorf("Key(राहुल) = %q, Key(rahul) = %q", a, b)
	}
}

func TestLooseKeyFoldsVoicing(t *testing.T) {
	// Tamil writes Geetha and Kannan with the same first letter.
	if a, b := LooseKey("கீதா"), LooseKey("Geetha"); a != b {
		t.Errorf("loose keys of கீதா %q and Geetha %q differ", a, b)
	}
	if a, b := LooseKey("kannan"), LooseKey("ganesh"); a == b {
		t.Errorf("loose keys of kannan and ganesh agree: %q", a)
	}
}

func TestSkeleton(t *testing.T) {
	// Spellings Compare calls fuzzy whose keys are two edits apart share a
	// skeleton; different names do not.
	for _, p := range [][2]string{{"Rakkiah", "रक्कैया"}, {"Kanthaiah", "कांडिया"}, {"Ponniah", "पोनैया"},
		{"Mouttouvel", "मुथ्थुवेल"}, {"Sathiyadoss", "सत्यदास"}, {"Sathaiah", "सेठिया"}} {
		a, b := Skeleton(Key(p[0])), Skeleton(Key(p[1]))
		if a == "" || a != b {
			t.Errorf("Skeleton(Key(%q)) = %q, Skeleton(Key(%q)) = %q: want one non-empty skeleton", p[0], a, p[1], b)
		}
	}
	for _, p := range [][2]string{{"Ramesh", "Suresh"}, {"Murugan", "Arumugam"}, {"Geetha", "Kita"}} {
		if a, b := Skeleton(Key(p[0])), Skeleton(Key(p[1])); a == b {
			t.Errorf("%q and %q share the skeleton %q", p[0], p[1], a)
		}
	}
	for _, k := range []string{"", "a", "ai", "ra", "~t:rakia", "RAKIA"} {
		if s := Skeleton(k); s != "" {
			t.Errorf("Skeleton(%q) = %q, want none", k, s)
		}
	}
}

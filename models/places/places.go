// Package places decides when two records name one place: it folds state
// and district names across scripts and spellings ("U.P.", "उत्तर प्रदेश",
// "Uttar Pradesh"), drops the words people add around a place ("Distt.",
// "City", "जिला"), maps old district names to current ones ("Bombay" is
// Mumbai) and reads a missing state from an unambiguous district or the
// place text. The index (terms it stores and queries) and the scorer
// (place levels) both call Resolve and Key, so that what retrieval finds
// and what scoring counts cannot drift apart.
package places

import (
	"strings"
	"sync"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// stateNames lists India's states and union territories by display name
// with the other names, old names, misspellings and Devanagari forms records
// use. stateCodes are their abbreviations, trusted only when a state field
// holds nothing else (in free text "up" and "as" are ordinary words).
var stateNames = map[string][]string{
	"Andhra Pradesh":    {"andhra pradesh", "andhra", "andhrapradesh", "आंध्र प्रदेश"},
	"Arunachal Pradesh": {"arunachal pradesh", "arunachal", "अरुणाचल प्रदेश"},
	"Assam":             {"assam", "asam", "असम", "অসম"},
	"Bihar":             {"bihar", "बिहार"},
	"Chhattisgarh":      {"chhattisgarh", "chattisgarh", "chhatisgarh", "chattisgarh", "chhattisgad", "छत्तीसगढ़"},
	"Goa":               {"goa", "गोवा"},
	"Gujarat":           {"gujarat", "gujrat", "गुजरात", "ગુજરાત"},
	"Haryana":           {"haryana", "hariyana", "हरियाणा"},
	"Himachal Pradesh":  {"himachal pradesh", "himachal", "हिमाचल प्रदेश"},
	"Jharkhand":         {"jharkhand", "jharkand", "jarkhand", "झारखंड", "झारखण्ड"},
	"Karnataka":         {"karnataka", "karnatka", "karnatak", "कर्नाटक", "ಕರ್ನಾಟಕ"},
	"Kerala":            {"kerala", "keralam", "केरल", "കേരളം"},
	"Madhya Pradesh":    {"madhya pradesh", "madhyapradesh", "madya pradesh", "मध्य प्रदेश"},
	"Maharashtra":       {"maharashtra", "maharastra", "maharashtr", "महाराष्ट्र"},
	"Manipur":           {"manipur", "मणिपुर"},
	"Meghalaya":         {"meghalaya", "मेघालय"},
	"Mizoram":           {"mizoram", "मिजोरम", "मिज़ोरम"},
	"Nagaland":          {"nagaland", "नागालैंड"},
	"Odisha":            {"odisha", "orissa", "odissa", "orisa", "ओडिशा", "उड़ीसा", "ଓଡ଼ିଶା"},
	"Punjab":            {"punjab", "panjab", "पंजाब", "ਪੰਜਾਬ"},
	"Rajasthan":         {"rajasthan", "rajsthan", "राजस्थान"},
	"Sikkim":            {"sikkim", "सिक्किम"},
	"Tamil Nadu":        {"tamil nadu", "tamilnadu", "tamil naadu", "तमिलनाडु", "தமிழ்நாடு"},
	"Telangana":         {"telangana", "telengana", "tealangana", "तेलंगाना"},
	"Tripura":           {"tripura", "त्रिपुरा"},
	"Uttar Pradesh":     {"uttar pradesh", "uttarpradesh", "utter pradesh", "uttar pardesh", "उत्तर प्रदेश"},
	"Uttarakhand":       {"uttarakhand", "uttaranchal", "uttrakhand", "uttarkhand", "उत्तराखंड", "उत्तराखण्ड"},
	"West Bengal":       {"west bengal", "westbengal", "bengal", "paschim banga", "paschimbanga", "पश्चिम बंगाल", "পশ্চিমবঙ্গ"},

	"Andaman and Nicobar Islands": {"andaman and nicobar islands", "andaman and nicobar", "andaman nicobar", "andaman"},
	"Chandigarh":                  {"chandigarh", "चंडीगढ़"},
	"Dadra and Nagar Haveli and Daman and Diu": {"dadra and nagar haveli and daman and diu", "dadra and nagar haveli",
		"dadra nagar haveli", "daman and diu", "daman diu"},
	"Delhi":             {"delhi", "nct of delhi", "nct delhi", "new delhi", "dilli", "दिल्ली", "नई दिल्ली"},
	"Jammu and Kashmir": {"jammu and kashmir", "jammu kashmir", "jammu & kashmir", "j and k", "जम्मू और कश्मीर", "जम्मू कश्मीर"},
	"Ladakh":            {"ladakh", "लद्दाख"},
	"Lakshadweep":       {"lakshadweep"},
	"Puducherry":        {"puducherry", "pondicherry", "pondy"},
}

// stateCodes are the states' abbreviations.
var stateCodes = map[string]string{
	"ap": "Andhra Pradesh", "ar": "Arunachal Pradesh", "as": "Assam", "br": "Bihar", "cg": "Chhattisgarh",
	"ct": "Chhattisgarh", "ga": "Goa", "gj": "Gujarat", "hr": "Haryana", "hp": "Himachal Pradesh",
	"jh": "Jharkhand", "ka": "Karnataka", "kl": "Kerala", "mp": "Madhya Pradesh", "mh": "Maharashtra",
	"mn": "Manipur", "ml": "Meghalaya", "mz": "Mizoram", "nl": "Nagaland", "od": "Odisha", "or": "Odisha",
	"pb": "Punjab", "rj": "Rajasthan", "sk": "Sikkim", "tn": "Tamil Nadu", "ts": "Telangana", "tg": "Telangana",
	"tr": "Tripura", "up": "Uttar Pradesh", "uk": "Uttarakhand", "ua": "Uttarakhand", "wb": "West Bengal",
	"an": "Andaman and Nicobar Islands", "ch": "Chandigarh", "dn": "Dadra and Nagar Haveli and Daman and Diu",
	"dd": "Dadra and Nagar Haveli and Daman and Diu", "dnhdd": "Dadra and Nagar Haveli and Daman and Diu",
	"dl": "Delhi", "nct": "Delhi", "jk": "Jammu and Kashmir", "la": "Ladakh", "ld": "Lakshadweep", "py": "Puducherry",
}

// districtAliases maps old and alternative district names to the current
// one, and names the state where the district name is unambiguous (some
// names, such as Aurangabad or Bilaspur, are districts in two states).
var districtAliases = map[string]struct{ district, state string }{
	"bombay": {"Mumbai", "Maharashtra"}, "mumbai": {"Mumbai", "Maharashtra"},
	"calcutta": {"Kolkata", "West Bengal"}, "kolkata": {"Kolkata", "West Bengal"},
	"madras": {"Chennai", "Tamil Nadu"}, "chennai": {"Chennai", "Tamil Nadu"},
	"bangalore": {"Bengaluru", "Karnataka"}, "bengaluru": {"Bengaluru", "Karnataka"}, "bengalooru": {"Bengaluru", "Karnataka"},
	"poona": {"Pune", "Maharashtra"}, "pune": {"Pune", "Maharashtra"},
	"gurgaon": {"Gurugram", "Haryana"}, "gurugram": {"Gurugram", "Haryana"},
	"allahabad": {"Prayagraj", "Uttar Pradesh"}, "prayagraj": {"Prayagraj", "Uttar Pradesh"},
	"faizabad": {"Ayodhya", "Uttar Pradesh"}, "ayodhya": {"Ayodhya", "Uttar Pradesh"},
	"benares": {"Varanasi", "Uttar Pradesh"}, "banaras": {"Varanasi", "Uttar Pradesh"}, "varanasi": {"Varanasi", "Uttar Pradesh"},
	"cawnpore": {"Kanpur", "Uttar Pradesh"}, "kanpur": {"Kanpur", "Uttar Pradesh"}, "kanpur nagar": {"Kanpur", "Uttar Pradesh"},
	"lucknow": {"Lucknow", "Uttar Pradesh"},
	"baroda":  {"Vadodara", "Gujarat"}, "vadodara": {"Vadodara", "Gujarat"},
	"trivandrum": {"Thiruvananthapuram", "Kerala"}, "thiruvananthapuram": {"Thiruvananthapuram", "Kerala"},
	"calicut": {"Kozhikode", "Kerala"}, "kozhikode": {"Kozhikode", "Kerala"},
	"cochin": {"Ernakulam", "Kerala"}, "kochi": {"Ernakulam", "Kerala"}, "ernakulam": {"Ernakulam", "Kerala"},
	"mysore": {"Mysuru", "Karnataka"}, "mysuru": {"Mysuru", "Karnataka"},
	"belgaum": {"Belagavi", "Karnataka"}, "belagavi": {"Belagavi", "Karnataka"},
	"gulbarga": {"Kalaburagi", "Karnataka"}, "kalaburagi": {"Kalaburagi", "Karnataka"},
	"vizag": {"Visakhapatnam", "Andhra Pradesh"}, "visakhapatnam": {"Visakhapatnam", "Andhra Pradesh"},
	"nasik": {"Nashik", "Maharashtra"}, "nashik": {"Nashik", "Maharashtra"},
	"simla": {"Shimla", "Himachal Pradesh"}, "shimla": {"Shimla", "Himachal Pradesh"},
	"trichy": {"Tiruchirappalli", "Tamil Nadu"}, "tiruchirappalli": {"Tiruchirappalli", "Tamil Nadu"},
	"tuticorin": {"Thoothukudi", "Tamil Nadu"}, "thoothukudi": {"Thoothukudi", "Tamil Nadu"},
	"hyderabad": {"Hyderabad", "Telangana"}, "secunderabad": {"Hyderabad", "Telangana"},
	"patna": {"Patna", "Bihar"}, "jaipur": {"Jaipur", "Rajasthan"}, "bhopal": {"Bhopal", "Madhya Pradesh"},
	"howrah": {"Howrah", "West Bengal"}, "ranchi": {"Ranchi", "Jharkhand"}, "guwahati": {"Kamrup Metropolitan", "Assam"},
	"kamrup metropolitan": {"Kamrup Metropolitan", "Assam"}, "kamrup metro": {"Kamrup Metropolitan", "Assam"},
	"gautam buddha nagar": {"Gautam Buddh Nagar", "Uttar Pradesh"}, "gautam buddh nagar": {"Gautam Buddh Nagar", "Uttar Pradesh"},
	"noida": {"Gautam Buddh Nagar", "Uttar Pradesh"},
}

// noise are words around a place's name that do not change it ("Patna
// district", "Distt. Gaya", "Mumbai Suburban", "जिला पुणे"), folded.
var noise = map[string]bool{
	"district": true, "dist": true, "distt": true, "dt": true, "zila": true, "zilla": true, "jila": true, "jilla": true,
	"city": true, "urban": true, "suburban": true,
}

// Fold folds a place name or text for lookup: scripts transliterated and
// case, accents and punctuation dropped as names.Fold does, with full stops
// dropped first ("U.P." is "up") and "&" read as "and" ("J&K").
func Fold(s string) string {
	return names.Fold(labelReplacer.Replace(s))
}

var labelReplacer = strings.NewReplacer(".", "", "&", " and ", "\u00ad", "")

// Key is the comparable form of one state or district name: folded, with
// the words around a place dropped ("Dist. Pune", "PUNE" and "पुणे" are
// "pune"). Two resolved names are the same place when their keys are equal
// and not empty; the index stores and queries these keys.
func Key(s string) string {
	words := strings.Fields(Fold(s))
	kept := words[:0]
	for _, w := range words {
		if !noise[w] {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// stateIndex maps folded state names and codes to display names.
type stateIndex struct {
	names map[string]string // full names and spellings
	codes map[string]string // abbreviations
}

// districtAlias is a district's current name and, when the name is
// unambiguous, its state.
type districtAlias struct{ district, state string }

// lookup holds the folded tables, built once and never changed.
type lookup struct {
	states    stateIndex
	districts map[string]districtAlias // by Key of the old or current name
}

var tables = sync.OnceValue(func() lookup {
	l := lookup{
		states:    stateIndex{names: map[string]string{}, codes: map[string]string{}},
		districts: map[string]districtAlias{},
	}
	for name, spellings := range stateNames {
		l.states.names[Fold(name)] = name
		for _, s := range spellings {
			l.states.names[Fold(s)] = name
		}
	}
	for code, name := range stateCodes {
		l.states.codes[code] = name
	}
	for old, a := range districtAliases {
		l.districts[Key(old)] = districtAlias{a.district, a.state}
	}
	return l
})

// Resolved is a record's place with the state and district in canonical
// form (display names; an unknown name is kept, folded and titled).
// Inferred says the state was not in the state field but read from the
// district or the place text.
type Resolved struct {
	State, District string
	Inferred        bool
}

// StateKey is Key of the resolved state: what the index stores and asks for.
func (r Resolved) StateKey() string { return Key(r.State) }

// DistrictKey is Key of the resolved district.
func (r Resolved) DistrictKey() string { return Key(r.District) }

// Resolve resolves a record's place. A state field is read as a name,
// spelling or code ("UP", "U.P.", "Orissa"); a district as its current name
// ("Bombay" is Mumbai). With no state field, the state comes from an
// unambiguous district or, failing that, from the one state the free text
// names in full ("found at Patna junction, Bihar").
func Resolve(p models.Place) Resolved {
	t := tables()
	var r Resolved
	if s := Fold(p.State); s != "" {
		if name, ok := t.states.names[s]; ok {
			r.State = name
		} else if name, ok := t.states.codes[strings.ReplaceAll(s, " ", "")]; ok {
			r.State = name
		} else {
			r.State = titleWords(s) // not a state we know: compared as written, folded
		}
	}
	var districtState string
	if d := Key(p.District); d != "" {
		if a, ok := t.districts[d]; ok {
			r.District, districtState = a.district, a.state
		} else {
			r.District = titleWords(d)
		}
	}
	if r.State == "" {
		switch {
		case districtState != "":
			r.State, r.Inferred = districtState, true
		default:
			if s := stateInText(t, p.Text); s != "" {
				r.State, r.Inferred = s, true
			}
		}
	}
	return r
}

// stateInText returns the one state a free text names in full, or through
// a city of districtAliases; "" when it names none or several.
func stateInText(t lookup, text string) string {
	folded := " " + Fold(text) + " "
	if strings.TrimSpace(folded) == "" {
		return ""
	}
	found := ""
	check := func(phrase, state string) bool {
		if strings.Contains(folded, " "+phrase+" ") {
			if found != "" && found != state {
				return false
			}
			found = state
		}
		return true
	}
	for phrase, state := range t.states.names {
		if !check(phrase, state) {
			return ""
		}
	}
	for phrase, a := range t.districts {
		if !check(phrase, a.state) {
			return ""
		}
	}
	return found
}

// titleWords capitalises the first letter of each word of a folded name.
func titleWords(s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		r := []rune(w)
		r[0] = []rune(strings.ToUpper(string(r[0])))[0]
		ws[i] = string(r)
	}
	return strings.Join(ws, " ")
}

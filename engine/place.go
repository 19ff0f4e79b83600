package engine

import (
	"fmt"
	"strings"
	"sync"

	"github.com/trackmatch/trackmatch/models"
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

// districtNoise are words around a district's name that do not change it
// ("Patna district", "Distt. Gaya", "Mumbai Suburban").
var districtNoise = map[string]bool{
	"district": true, "dist": true, "distt": true, "dt": true, "zila": true, "zilla": true, "jila": true, "jilla": true,
	"city": true, "urban": true, "suburban": true, "जिला": true, "ज़िला": true,
}

// placeIndex maps folded state names and codes to display names; built
// once, never changed.
type placeIndex struct {
	names map[string]string // full names and spellings
	codes map[string]string // abbreviations
}

var statesIndex = sync.OnceValue(func() placeIndex {
	idx := placeIndex{names: map[string]string{}, codes: map[string]string{}}
	for name, spellings := range stateNames {
		idx.names[foldLabel(name)] = name
		for _, s := range spellings {
			idx.names[foldLabel(s)] = name
		}
	}
	for code, name := range stateCodes {
		idx.codes[code] = name
	}
	return idx
})

// normalizedPlace is a place with the state and district in canonical form;
// inferred says the state was not in the state field but read from the
// district or the place text.
type normalizedPlace struct {
	state, district string
	inferred        bool
}

// normalizePlace resolves a record's place. A state field is read as a
// name, spelling or code ("UP", "U.P.", "Orissa"); a district as its
// current name ("Bombay" is Mumbai). With no state field, the state comes
// from an unambiguous district or, failing that, from the one state the
// free text names in full ("found at Patna junction, Bihar").
func normalizePlace(p models.Place) normalizedPlace {
	idx := statesIndex()
	var np normalizedPlace
	if s := foldLabel(p.State); s != "" {
		if name, ok := idx.names[s]; ok {
			np.state = name
		} else if name, ok := idx.codes[strings.ReplaceAll(s, " ", "")]; ok {
			np.state = name
		} else {
			np.state = titleWords(s) // not a state we know: compared as written, folded
		}
	}
	var districtState string
	if d := foldDistrict(p.District); d != "" {
		if a, ok := districtAliases[d]; ok {
			np.district, districtState = a.district, a.state
		} else {
			np.district = titleWords(d)
		}
	}
	if np.state == "" {
		switch {
		case districtState != "":
			np.state, np.inferred = districtState, true
		default:
			if s := stateInText(idx, p.Text); s != "" {
				np.state, np.inferred = s, true
			}
		}
	}
	return np
}

// foldDistrict folds a district name and drops the words around it.
func foldDistrict(s string) string {
	var kept []string
	for _, w := range strings.Fields(foldLabel(s)) {
		if !districtNoise[w] {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// stateInText returns the one state a free text names in full, or through
// a city of districtAliases; "" when it names none or several.
func stateInText(idx placeIndex, text string) string {
	t := " " + foldLabel(text) + " "
	if strings.TrimSpace(t) == "" {
		return ""
	}
	found := ""
	check := func(phrase, state string) bool {
		if strings.Contains(t, " "+phrase+" ") {
			if found != "" && found != state {
				return false
			}
			found = state
		}
		return true
	}
	for phrase, state := range idx.names {
		if !check(phrase, state) {
			return ""
		}
	}
	for phrase, a := range districtAliases {
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

// comparePlaces: "district" (same state and district), "state" (same state,
// districts different or unknown on one side), "other" (different states).
// No evidence when either state is unknown, even if the districts agree:
// district names repeat across states.
func comparePlaces(a, b models.Place) FieldComparison {
	fc := FieldComparison{Field: FieldPlace}
	pa, pb := normalizePlace(a), normalizePlace(b)
	if pa.state == "" || pb.state == "" {
		fc.Detail = "place: state " + strings.TrimPrefix(unknownDetail("", pa.state != "", pb.state != ""), ": ")
		return fc
	}
	note := ""
	switch {
	case pa.inferred && pb.inferred:
		note = "; both states read from the districts or place texts"
	case pa.inferred:
		note = "; the missing record's state read from its district or place text"
	case pb.inferred:
		note = "; the found record's state read from its district or place text"
	}
	if !strings.EqualFold(pa.state, pb.state) {
		fc.Level = PlaceOther
		fc.Detail = fmt.Sprintf("place: different states (%s on the missing record, %s on the found record)%s", pa.state, pb.state, note)
		return fc
	}
	switch {
	case pa.district != "" && strings.EqualFold(pa.district, pb.district):
		fc.Level = PlaceDistrict
		fc.Detail = fmt.Sprintf("place: same district (%s, %s)%s", pa.district, pa.state, note)
	case pa.district != "" && pb.district != "":
		fc.Level = PlaceState
		fc.Detail = fmt.Sprintf("place: same state (%s), different districts (%s and %s)%s", pa.state, pa.district, pb.district, note)
	default:
		fc.Level = PlaceState
		fc.Detail = fmt.Sprintf("place: same state (%s); district %s%s", pa.state,
			strings.TrimPrefix(unknownDetail("", pa.district != "", pb.district != ""), ": "), note)
	}
	return fc
}

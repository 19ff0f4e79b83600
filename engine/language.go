package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// languageNames lists the languages children in India are recorded as
// speaking, by display name, with the spellings and native names records
// use. A name not listed is compared as written, after folding.
var languageNames = map[string][]string{
	"Hindi":         {"hindi", "hindhi", "hindee", "hindustani", "हिंदी", "हिन्दी"},
	"Bengali":       {"bengali", "bangla", "bangali", "bengoli", "বাংলা", "बंगाली", "बांग्ला"},
	"Odia":          {"odia", "oriya", "odiya", "oria", "ଓଡ଼ିଆ", "ओड़िया", "उड़िया"},
	"Marathi":       {"marathi", "मराठी"},
	"Gujarati":      {"gujarati", "gujrati", "ગુજરાતી", "गुजराती"},
	"Punjabi":       {"punjabi", "panjabi", "ਪੰਜਾਬੀ", "पंजाबी"},
	"Tamil":         {"tamil", "thamizh", "tamizh", "தமிழ்", "तमिल"},
	"Telugu":        {"telugu", "telgu", "tellugu", "తెలుగు", "तेलुगु"},
	"Kannada":       {"kannada", "kanada", "kannad", "canarese", "ಕನ್ನಡ", "कन्नड़"},
	"Malayalam":     {"malayalam", "malyalam", "മലയാളം", "मलयालम"},
	"Urdu":          {"urdu", "اردو", "उर्दू"},
	"Assamese":      {"assamese", "asamiya", "axomiya", "অসমীয়া", "असमिया"},
	"Nepali":        {"nepali", "nepalese", "gorkhali", "नेपाली"},
	"Bhojpuri":      {"bhojpuri", "भोजपुरी"},
	"Maithili":      {"maithili", "मैथिली"},
	"Magahi":        {"magahi", "magadhi", "मगही"},
	"Awadhi":        {"awadhi", "avadhi", "अवधी"},
	"Chhattisgarhi": {"chhattisgarhi", "chattisgarhi", "छत्तीसगढ़ी"},
	"Haryanvi":      {"haryanvi", "हरियाणवी"},
	"Rajasthani":    {"rajasthani", "marwari", "मारवाड़ी", "राजस्थानी"},
	"Garhwali":      {"garhwali", "गढ़वाली"},
	"Kumaoni":       {"kumaoni", "kumauni", "कुमाऊँनी"},
	"Santali":       {"santali", "santhali", "ᱥᱟᱱᱛᱟᱲᱤ", "संथाली"},
	"Konkani":       {"konkani", "कोंकणी"},
	"Sindhi":        {"sindhi", "सिंधी"},
	"Kashmiri":      {"kashmiri", "कश्मीरी"},
	"Dogri":         {"dogri", "डोगरी"},
	"Manipuri":      {"manipuri", "meitei", "meiteilon", "মণিপুরী"},
	"Bodo":          {"bodo", "boro", "बड़ो"},
	"Tulu":          {"tulu", "ತುಳು"},
	"Gondi":         {"gondi", "गोंडी"},
	"Khasi":         {"khasi"},
	"Mizo":          {"mizo", "lushai"},
	"Sign language": {"sign language", "indian sign language", "isl", "sign"},
	"English":       {"english", "angrezi", "अंग्रेज़ी", "अंग्रेजी"},
}

// languageIndex maps each folded spelling to its display name; built once,
// never changed.
var languageIndex = sync.OnceValue(func() map[string]string {
	idx := map[string]string{}
	for name, spellings := range languageNames {
		for _, s := range spellings {
			idx[foldLabel(s)] = name
		}
	}
	return idx
})

// normalizeLanguages folds a record's languages to display names, splitting
// items that list several ("Hindi, Bhojpuri", "Hindi/Urdu", "Hindi and
// Bangla"), without repeats.
func normalizeLanguages(langs []string) []string {
	idx := languageIndex()
	var out []string
	for _, l := range langs {
		for _, part := range strings.FieldsFunc(l, func(r rune) bool { return strings.ContainsRune(",;/|+&", r) }) {
			for _, p := range strings.Split(" "+foldLabel(part)+" ", " and ") {
				key := strings.TrimSpace(p)
				if key == "" {
					continue
				}
				name, ok := idx[key]
				if !ok {
					name = key
				}
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// compareLanguages: "shared" when the records have a language in common
// after normalising names (hindi, Hindi, हिंदी; bangla, bengali; odia,
// oriya), "none" otherwise.
func compareLanguages(a, b []string) FieldComparison {
	fc := FieldComparison{Field: FieldLanguage}
	na, nb := normalizeLanguages(a), normalizeLanguages(b)
	if len(na) == 0 || len(nb) == 0 {
		fc.Detail = unknownDetail("languages", len(na) > 0, len(nb) > 0)
		return fc
	}
	var shared []string
	for _, l := range na {
		if slices.Contains(nb, l) {
			shared = append(shared, l)
		}
	}
	if len(shared) > 0 {
		fc.Level = LanguageShared
		fc.Detail = fmt.Sprintf("languages: both speak %s", strings.Join(shared, ", "))
		return fc
	}
	fc.Level = LanguageNone
	fc.Detail = fmt.Sprintf("languages: none shared (missing child: %s; found child: %s)", strings.Join(na, ", "), strings.Join(nb, ", "))
	return fc
}

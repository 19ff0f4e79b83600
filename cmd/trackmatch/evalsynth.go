package main

// Synthetic attributes for `trackmatch eval --synthetic-attributes`: a
// made-up Indian child behind each labelled identity (name, sex, marks,
// home district, mother tongue), and each record's noisy rendering of it,
// the way a family reports a missing child and a child care institution
// registers a found one. Seeded: the same seed gives the same records.
//
// The rates below are judgement about TrackChild records, written down
// before any evaluation and not tuned to one; they are NOT the scorer's m
// and u (which would make the evaluation confirm itself), though both come
// from the same understanding of the records.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/trackmatch/trackmatch/models"
)

// synthName is a name word: its Latin spellings (the first the commonest)
// and its Devanagari form.
type synthName struct {
	latin []string
	deva  string
}

func nm(deva string, latin ...string) synthName { return synthName{latin: latin, deva: deva} }

// Name lists, commonest first (weights fall as 1/(rank+8), a flattened
// Zipf: the top name is about 6% of its list).
var (
	synthGirls = []synthName{
		nm("पूजा", "Pooja", "Puja"), nm("प्रिया", "Priya"), nm("अंजलि", "Anjali", "Anjli"), nm("सुनीता", "Sunita", "Suneeta"),
		nm("रेखा", "Rekha"), nm("कविता", "Kavita", "Kavitha"), nm("नेहा", "Neha"), nm("सोनिया", "Sonia", "Soniya"),
		nm("रानी", "Rani"), nm("लक्ष्मी", "Laxmi", "Lakshmi"), nm("मीना", "Meena", "Mina"), nm("गीता", "Geeta", "Gita"),
		nm("ज्योति", "Jyoti", "Jyothi"), nm("कोमल", "Komal"), nm("खुशी", "Khushi", "Kushi"), nm("निशा", "Nisha"),
		nm("रितु", "Ritu"), nm("सपना", "Sapna", "Sapana"), nm("दिव्या", "Divya"), nm("ममता", "Mamta", "Mamata"),
		nm("राधा", "Radha"), nm("अनीता", "Anita", "Aneeta"), nm("सुमन", "Suman"), nm("काजल", "Kajal"),
		nm("प्रीति", "Preeti", "Priti"), nm("शिवानी", "Shivani"), nm("आरती", "Aarti", "Arti"), nm("मनीषा", "Manisha"),
		nm("संगीता", "Sangeeta", "Sangita"), nm("बबीता", "Babita"),
	}
	synthBoys = []synthName{
		nm("राहुल", "Rahul"), nm("अमित", "Amit"), nm("राजू", "Raju"), nm("सुनील", "Sunil"), nm("रवि", "Ravi"),
		nm("अर्जुन", "Arjun"), nm("विकास", "Vikas"), nm("अजय", "Ajay"), nm("विजय", "Vijay"), nm("संजय", "Sanjay"),
		nm("दीपक", "Deepak", "Dipak"), nm("रोहित", "Rohit"), nm("मनोज", "Manoj"), nm("सुरेश", "Suresh"),
		nm("रमेश", "Ramesh"), nm("अंकित", "Ankit"), nm("गोपाल", "Gopal"), nm("कृष्णा", "Krishna", "Krishan"),
		nm("सोनू", "Sonu"), nm("करण", "Karan"), nm("अमन", "Aman"), nm("साहिल", "Sahil"), nm("राकेश", "Rakesh"),
		nm("पंकज", "Pankaj"), nm("नितिन", "Nitin"), nm("आकाश", "Akash", "Aakash"), nm("विशाल", "Vishal"), nm("अशोक", "Ashok"),
	}
	synthMuslimGirls = []synthName{
		nm("फ़ातिमा", "Fatima", "Fathima"), nm("आयशा", "Ayesha", "Aisha"), nm("शबाना", "Shabana"), nm("सलमा", "Salma"),
		nm("परवीन", "Parveen", "Parvin"), nm("रेशमा", "Reshma"), nm("फ़रज़ाना", "Farzana"), nm("नाज़िया", "Nazia"),
	}
	synthMuslimBoys = []synthName{
		nm("इमरान", "Imran"), nm("आरिफ़", "Arif"), nm("सलीम", "Salim", "Saleem"), nm("समीर", "Sameer", "Samir"),
		nm("इरफ़ान", "Irfan"), nm("शाहिद", "Shahid"), nm("आसिफ़", "Asif"), nm("जावेद", "Javed", "Javaid"),
	}
	synthFamilies = []synthName{
		nm("शर्मा", "Sharma"), nm("यादव", "Yadav"), nm("सिंह", "Singh"), nm("वर्मा", "Verma"), nm("गुप्ता", "Gupta"),
		nm("दास", "Das"), nm("मंडल", "Mandal"), nm("पासवान", "Paswan"), nm("प्रसाद", "Prasad"), nm("मिश्रा", "Mishra", "Misra"),
		nm("पटेल", "Patel"), nm("साहू", "Sahu"), nm("रजक", "Rajak"), nm("चौहान", "Chauhan"), nm("ठाकुर", "Thakur"),
		nm("पांडे", "Pandey", "Pande"), nm("तिवारी", "Tiwari", "Tewari"), nm("झा", "Jha"), nm("महतो", "Mahto", "Mahato"), nm("निषाद", "Nishad"),
	}
	synthMuslimFamilies = []synthName{
		nm("ख़ान", "Khan"), nm("शेख़", "Shaikh", "Sheikh"), nm("अंसारी", "Ansari"), nm("क़ुरैशी", "Qureshi", "Kureshi"),
		nm("अली", "Ali"), nm("अहमद", "Ahmed", "Ahmad"), nm("सिद्दीक़ी", "Siddiqui", "Siddiqi"), nm("मलिक", "Malik"),
	}
	// Pet names a found child gives, which no report of the family uses.
	synthNicknames = []string{"Munni", "Chhotu", "Guddu", "Pinky", "Golu", "Pappu", "Tinku", "Chintu", "Bittu", "Dolly", "Rinku", "Lado"}
)

// synthState is a home state, its districts and its language.
type synthState struct {
	name      string
	weight    float64
	districts []string
	language  string
}

// Where reported missing children come from, roughly by share.
var synthStates = []synthState{
	{"Uttar Pradesh", 0.25, []string{"Lucknow", "Kanpur Nagar", "Varanasi", "Gorakhpur", "Agra"}, "Hindi"},
	{"Bihar", 0.18, []string{"Patna", "Gaya", "Muzaffarpur", "Darbhanga"}, "Hindi"},
	{"West Bengal", 0.12, []string{"Howrah", "Kolkata", "Murshidabad", "North 24 Parganas"}, "Bengali"},
	{"Maharashtra", 0.10, []string{"Mumbai", "Pune", "Nagpur", "Thane"}, "Marathi"},
	{"Madhya Pradesh", 0.08, []string{"Bhopal", "Indore", "Jabalpur"}, "Hindi"},
	{"Delhi", 0.08, []string{"New Delhi", "North East Delhi", "South Delhi"}, "Hindi"},
	{"Rajasthan", 0.07, []string{"Jaipur", "Jodhpur", "Alwar"}, "Hindi"},
	{"Jharkhand", 0.05, []string{"Ranchi", "Dhanbad", "Pakur"}, "Hindi"},
	{"Odisha", 0.04, []string{"Khordha", "Cuttack", "Ganjam"}, "Odia"},
	{"Assam", 0.03, []string{"Kamrup Metropolitan", "Dhubri"}, "Assamese"},
}

var (
	synthMarkTypes = []string{"mole", "mole", "scar", "scar", "birthmark", "burn mark"}
	synthSided     = []string{"cheek", "hand", "arm", "leg", "knee", "eyebrow"}
	synthUnsided   = []string{"forehead", "chin", "nose", "neck"}
)

// synthIdentity is the truth about one made-up child.
type synthIdentity struct {
	female  bool
	given   synthName
	family  synthName
	muslim  bool
	mark    synthMark
	hasMark bool
	state   synthState
	distIdx int
}

// synthMark is an identifying mark.
type synthMark struct {
	kind, part, side string // side "" for unsided parts
}

func (m synthMark) text(side string) string {
	if side == "" {
		return fmt.Sprintf("%s on %s", m.kind, m.part)
	}
	return fmt.Sprintf("%s on %s %s", m.kind, side, m.part)
}

// attrSynth makes identities and records from a seed.
type attrSynth struct{ seed uint64 }

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// rng returns the generator for one purpose ("identity", "found/3", ...)
// of one person: independent of the order records are made in.
func (s attrSynth) rng(person, purpose string) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, hash64(person, purpose)))
}

// pick returns an item of a list weighted 1/(rank+8).
func pick[T any](r *rand.Rand, list []T) T {
	var total float64
	for i := range list {
		total += 1 / float64(i+8)
	}
	x := r.Float64() * total
	for i := range list {
		x -= 1 / float64(i+8)
		if x < 0 {
			return list[i]
		}
	}
	return list[len(list)-1]
}

// identity returns the made-up child behind a labelled person.
func (s attrSynth) identity(person string) synthIdentity {
	r := s.rng(person, "identity")
	id := synthIdentity{female: r.IntN(2) == 0, muslim: r.Float64() < 0.15}
	switch {
	case id.muslim && id.female:
		id.given = pick(r, synthMuslimGirls)
	case id.muslim:
		id.given = pick(r, synthMuslimBoys)
	case id.female:
		id.given = pick(r, synthGirls)
	default:
		id.given = pick(r, synthBoys)
	}
	if id.muslim {
		id.family = pick(r, synthMuslimFamilies)
	} else {
		id.family = pick(r, synthFamilies)
	}
	if r.Float64() < 0.35 {
		id.hasMark = true
		id.mark.kind = synthMarkTypes[r.IntN(len(synthMarkTypes))]
		if r.IntN(3) > 0 {
			id.mark.part = synthSided[r.IntN(len(synthSided))]
			id.mark.side = []string{"left", "right"}[r.IntN(2)]
		} else {
			id.mark.part = synthUnsided[r.IntN(len(synthUnsided))]
		}
	}
	x := r.Float64()
	for _, st := range synthStates {
		x -= st.weight
		if x < 0 || st.name == synthStates[len(synthStates)-1].name {
			id.state = st
			break
		}
	}
	id.distIdx = r.IntN(len(id.state.districts))
	return id
}

func (id synthIdentity) sex() models.Sex {
	if id.female {
		return models.SexFemale
	}
	return models.SexMale
}

// spelling returns a Latin spelling of n: the commonest, or another with
// probability alt.
func spelling(r *rand.Rand, n synthName, alt float64) string {
	if len(n.latin) > 1 && r.Float64() < alt {
		return n.latin[1+r.IntN(len(n.latin)-1)]
	}
	return n.latin[0]
}

// typo misspells a name by one letter: a doubled or dropped letter.
func typo(r *rand.Rand, s string) string {
	if len(s) < 5 {
		return s
	}
	i := 1 + r.IntN(len(s)-2)
	if r.IntN(2) == 0 {
		return s[:i] + s[i:i+1] + s[i:]
	}
	return s[:i] + s[i+1:]
}

// missingRecord is how a family reports the child: the name as the family
// writes it (sometimes in Devanagari, sometimes without the family name or
// with Kumar/Kumari), sex, the mark if they think of it, home district and
// mother tongue.
func (s attrSynth) missingRecord(person, key string) *models.Child {
	id := s.identity(person)
	r := s.rng(person, "missing/"+key)
	c := &models.Child{Kind: models.KindMissing}
	given, family := spelling(r, id.given, 0.2), spelling(r, id.family, 0.2)
	switch x := r.Float64(); {
	case x < 0.05:
		c.Names = []string{id.given.deva + " " + id.family.deva}
	case x < 0.70:
		c.Names = []string{given + " " + family}
	case x < 0.85 && !id.muslim:
		c.Names = []string{given + " " + map[bool]string{true: "Kumari", false: "Kumar"}[id.female]}
	default:
		c.Names = []string{given}
	}
	if r.Float64() < 0.98 {
		c.Sex = id.sex()
	}
	if id.hasMark && r.Float64() < 0.7 {
		c.Marks = id.mark.text(id.mark.side)
	}
	if r.Float64() < 0.95 {
		c.Place = models.Place{State: id.state.name, District: id.state.districts[id.distIdx]}
	}
	if r.Float64() < 0.6 {
		c.Languages = []string{id.state.language}
	}
	return c
}

// foundRecord is how a child care institution registers the child: the
// name the child gives or staff hear (often spelled otherwise, written in
// Devanagari, only the given name, a pet name, nothing at all, or another
// family name), sex (rarely wrong), the mark as staff see it (sometimes
// vaguer, sometimes on the other side), where the child was found (home
// district for a third, elsewhere in the state for a quarter, another
// state for a third) and the language the child speaks.
func (s attrSynth) foundRecord(person, key string) *models.Child {
	id := s.identity(person)
	r := s.rng(person, "found/"+key)
	c := &models.Child{Kind: models.KindFound}
	given, family := spelling(r, id.given, 0.3), spelling(r, id.family, 0.3)
	switch x := r.Float64(); {
	case x < 0.35:
		c.Names = []string{given + " " + family}
	case x < 0.47:
		c.Names = []string{spelling(r, id.given, 1) + " " + spelling(r, id.family, 1)}
	case x < 0.55:
		c.Names = []string{typo(r, given) + " " + family}
	case x < 0.63:
		c.Names = []string{id.given.deva}
	case x < 0.75:
		c.Names = []string{given}
	case x < 0.82:
		c.Names = []string{synthNicknames[r.IntN(len(synthNicknames))]}
	case x < 0.90:
		// No name recorded ("unknown", a baby, a child who does not speak).
	case x < 0.95:
		other := pick(r, synthFamilies)
		if id.muslim {
			other = pick(r, synthMuslimFamilies)
		}
		c.Names = []string{given + " " + other.latin[0]}
	default:
		// Renamed: a new given name in the institution.
		other := s.identity(person + "/renamed")
		c.Names = []string{other.given.latin[0]}
	}
	switch x := r.Float64(); {
	case x < 0.96:
		c.Sex = id.sex()
	case x < 0.99:
	default:
		c.Sex = map[bool]models.Sex{true: models.SexMale, false: models.SexFemale}[id.female]
	}
	if id.hasMark && r.Float64() < 0.5 {
		side := id.mark.side
		switch x := r.Float64(); {
		case side != "" && x < 0.1:
			side = map[string]string{"left": "right", "right": "left"}[side]
		case x < 0.25:
			side = ""
		}
		c.Marks = id.mark.text(side)
	}
	switch x := r.Float64(); {
	case x < 0.30:
		c.Place = models.Place{State: id.state.name, District: id.state.districts[id.distIdx]}
	case x < 0.55:
		d := id.state.districts[(id.distIdx+1+r.IntN(max(1, len(id.state.districts)-1)))%len(id.state.districts)]
		c.Place = models.Place{State: id.state.name, District: d}
	case x < 0.90:
		st := synthStates[r.IntN(len(synthStates))]
		c.Place = models.Place{State: st.name, District: st.districts[r.IntN(len(st.districts))]}
	}
	if r.Float64() < 0.5 {
		c.Languages = []string{id.state.language}
	}
	return c
}

// foundAge is a caregiver's estimate of a child of true age a: off by a
// normal error of sd 0.6 + 0.08·a years, often given as a range of three.
func (s attrSynth) foundAge(person, key string, a int) *models.AgeRange {
	r := s.rng(person, "age/"+key)
	est := a + int(math.Round(r.NormFloat64()*(0.6+0.08*float64(a))))
	lo, hi := est, est
	if r.Float64() < 0.6 {
		lo, hi = est-1, est+1
	}
	lo, hi = min(max(lo, 0), models.MaxAgeYears), min(max(hi, 0), models.MaxAgeYears)
	return &models.AgeRange{Min: lo, Max: hi}
}

// missingAge is a family's statement of the age: exact, or a range of
// three for one report in ten.
func (s attrSynth) missingAge(person, key string, a int) *models.AgeRange {
	r := s.rng(person, "missing-age/"+key)
	if r.Float64() < 0.1 {
		return &models.AgeRange{Min: max(a-1, 0), Max: min(a+1, models.MaxAgeYears)}
	}
	return &models.AgeRange{Min: a, Max: a}
}

// background returns the names of n made-up children who are only counted:
// records without photos that give the name counter a population, so that
// a name's term frequency is what it would be among thousands of records
// rather than among the evaluation's few.
func (s attrSynth) background(n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		key := fmt.Sprintf("background-%d", i)
		c := s.missingRecord(key, "0")
		if i%2 == 1 {
			c = s.foundRecord(key, "0")
		}
		out[i] = c.Names
	}
	return out
}

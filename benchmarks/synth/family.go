package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// Relative is a real father's or husband's name as an election affidavit
// gives it, in Latin and in Devanagari letters (../shared/names-real/
// affidavit-relatives.csv).
type Relative struct {
	English, Hindi, State string
}

// LoadRelatives reads the affidavit relatives file (columns english,
// hindi, state).
func LoadRelatives(path string) ([]Relative, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("relatives: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("relatives %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	if _, ok := col["english"]; !ok {
		return nil, fmt.Errorf("relatives %s: no english column", path)
	}
	var out []Relative
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("relatives %s: %w", path, err)
		}
		rel := Relative{English: rec[col["english"]]}
		if i, ok := col["hindi"]; ok && i < len(rec) {
			rel.Hindi = rec[i]
		}
		if i, ok := col["state"]; ok && i < len(rec) {
			rel.State = rec[i]
		}
		if givenWord(rel.English) != "" {
			out = append(out, rel)
		}
	}
	return out, nil
}

// givenWord is the given name of a written name: its first word of more
// than two letters that the name engine keeps (titles such as "Late",
// "Sri", "स्वर्गीय" and relation markers dropped): "(Late).R.Chandramohan"
// is "Chandramohan", "A . ARAVIND" is "ARAVIND".
func givenWord(s string) string {
	if i := strings.LastIndexAny(s, ")）"); i >= 0 {
		s = s[i+1:]
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == ',' || r == '।' }) {
		if strings.HasPrefix(w, "स्वर्गीय") { // "late", also with a visarga the name lists lack
			continue
		}
		if len([]rune(w)) > 2 && len(names.Tokens(w)) > 0 && len(names.Tokens(w+" x")) > 1 {
			return w
		}
	}
	return ""
}

// village roots and endings: village names repeat across India (a Rampur
// in most states), as these combinations do.
var (
	villageRoots = []string{"Ram", "Sita", "Kishan", "Bhawani", "Chand", "Hasan", "Lal", "Dev", "Nand", "Shiv",
		"Gopal", "Sultan", "Fateh", "Bahadur", "Madhav", "Hari", "Bala", "Kali", "Durga", "Mohan", "Raghu",
		"Jagdish", "Amar", "Sher", "Bhim", "Indra", "Kamal", "Mani", "Nava", "Pali", "Rani", "Sona", "Tara",
		"Uma", "Vijay", "Bir", "Chhota", "Bada", "Naya", "Purana", "Kesh", "Gokul", "Hanu", "Kanak", "Lakhan",
		"Moti", "Panch", "Ratan", "Saket", "Tilak", "Udai", "Vish", "Anand", "Barh", "Chandan", "Dhan", "Ganga",
		"Har", "Jai", "Kot", "Lach", "Mahes", "Narsing", "Param", "Rup", "Sahib", "Tulsi"}
	villageEnds = []string{"pur", "pura", "garh", "nagar", "ganj", "abad", "gaon", "wadi", "palli", "halli",
		"kuppam", "tola", "dih", "bari", "khera", "sar"}
	landmarkWords = []string{"temple", "mandir", "masjid", "mosque", "school", "station", "pond", "talab", "well",
		"water tank", "market", "bazaar", "bus stand", "hospital", "church", "gurudwara", "peepal tree", "bridge",
		"canal", "factory", "brick kiln", "post office", "panchayat bhavan", "river ghat", "mill", "petrol pump"}
	landmarkLinks   = []string{"near the", "behind the", "next to the", "opposite the", "near", "paas"}
	landmarkQualify = []string{"big", "old", "new", "Hanuman", "Shiv", "Kali", "Jama", "government", "red", "white", ""}
	clothGarments   = []string{"shirt", "kameez", "kurta", "t-shirt", "frock", "salwar", "pant", "jeans", "shorts", "sweater", "banian", "skirt"}
	clothColours    = []string{"red", "lal", "blue", "neela", "green", "hara", "yellow", "peela", "black", "kala", "white", "safed", "pink", "gulabi"}
	clothPatterns   = []string{"checked", "striped", "printed", "plain", ""}
	complexions     = []string{"fair", "wheatish", "wheatish", "dusky", "dark"}
	builds          = []string{"thin", "medium", "medium", "heavy"}
)

// family is what the generator draws about a child's family and home,
// from its own random stream so that the other records' draws do not move.
type family struct {
	father, fatherHindi string // the father's name as a record writes it
	mother              string
	village, ps         string
	landmarks           []string
	garment, colour     string
	pattern             string
	complexion, build   string
}

// drawFamily draws p's family and home from g.frng.
func (g *Generator) drawFamily(p *person) {
	r := g.frng
	f := &family{}
	if len(g.cfg.Relatives) > 0 {
		rel := g.cfg.Relatives[r.IntN(len(g.cfg.Relatives))]
		f.father, f.fatherHindi = rel.English, rel.Hindi
	} else {
		f.father = p.father
	}
	if m := g.given[p.comm.given+"/f"].pick(r); m != nil {
		f.mother = m.latin[0]
		if p.surname != nil {
			f.mother += " " + p.surname.latin[0]
		}
	}
	f.village = villageRoots[r.IntN(len(villageRoots))] + villageEnds[r.IntN(len(villageEnds))]
	f.ps = villageRoots[r.IntN(len(villageRoots))] + villageEnds[r.IntN(len(villageEnds))]
	for range 1 + r.IntN(2) {
		f.landmarks = append(f.landmarks, strings.Join(strings.Fields(landmarkLinks[r.IntN(len(landmarkLinks))]+" "+
			landmarkQualify[r.IntN(len(landmarkQualify))]+" "+landmarkWords[r.IntN(len(landmarkWords))]), " "))
	}
	f.garment = clothGarments[r.IntN(len(clothGarments))]
	f.colour = clothColours[r.IntN(len(clothColours))]
	f.pattern = clothPatterns[r.IntN(len(clothPatterns))]
	f.complexion = complexions[r.IntN(len(complexions))]
	f.build = builds[r.IntN(len(builds))]
	p.fam = f
	if p.initial != "" {
		if gw := givenWord(f.father); gw != "" {
			p.initial = strings.ToUpper(gw[:1]) + "."
		}
	}
}

// writeFamilyMissing writes a missing report's family, home, clothing and
// descriptors: the complainant is usually a parent, so the father is
// nearly always named.
func (g *Generator) writeFamilyMissing(c *models.Child, p *person) {
	r, f := g.frng, p.fam
	c.Guardians = nil
	if chance(r, 0.95) {
		c.Guardians = append(c.Guardians, models.Guardian{Name: f.father, Relation: models.RelationFather})
	}
	if chance(r, 0.6) {
		c.Guardians = append(c.Guardians, models.Guardian{Name: f.mother, Relation: models.RelationMother})
	}
	if chance(r, 0.9) {
		c.Home.Village = f.village
	}
	if chance(r, 0.6) {
		c.Home.PoliceStation = f.ps
	}
	c.Home.District, c.Home.State = c.Place.District, c.Place.State
	if chance(r, 0.5) {
		c.Home.Landmarks = strings.Join(f.landmarks, ", ")
	}
	if chance(r, 0.7) {
		c.Clothing = models.Clothing{Garment: f.garment, Colour: f.colour, Pattern: f.pattern}
	}
	if chance(r, 0.5) {
		c.Descriptors = models.Descriptors{Complexion: f.complexion, Build: f.build}
	}
}

// writeFamilyFound writes what a found child tells of the family and
// home: less often, only given names, sometimes in Devanagari.
func (g *Generator) writeFamilyFound(c *models.Child, p *person, on time.Time, lost time.Time) {
	r, f := g.frng, p.fam
	if chance(r, 0.5) {
		c.Guardians = append(c.Guardians, models.Guardian{Name: g.fatherAsTold(p), Relation: models.RelationFather})
	}
	if chance(r, 0.3) {
		c.Guardians = append(c.Guardians, models.Guardian{Name: givenWord(f.mother), Relation: models.RelationMother})
	}
	if chance(r, 0.45) {
		c.Home.Village = g.villageAsTold(f.village)
	}
	if chance(r, 0.25) {
		c.Home.Landmarks = f.landmarks[0]
	}
	if on.Sub(lost) < 30*24*time.Hour && chance(r, 0.6) {
		c.Clothing = models.Clothing{Garment: f.garment, Colour: f.colour}
	}
	if chance(r, 0.4) {
		c.Descriptors = models.Descriptors{Complexion: complexions[r.IntN(len(complexions))], Build: f.build}
		if chance(r, 0.6) {
			c.Descriptors.Complexion = f.complexion
		}
	}
}

// fatherAsTold is the father's name as a child gives it: the given name,
// in Devanagari a fifth of the time when the affidavit has it.
func (g *Generator) fatherAsTold(p *person) string {
	f := p.fam
	if f.fatherHindi != "" && chance(g.frng, 0.2) {
		if w := givenWord(f.fatherHindi); w != "" {
			return w
		}
	}
	w := givenWord(f.father)
	if w == "" {
		w = f.father
	}
	if chance(g.frng, 0.1) {
		w = g.slip(w)
	}
	return w
}

// villageAsTold is a village as a child says it and a clerk writes it:
// now and then one letter different.
func (g *Generator) villageAsTold(v string) string {
	if chance(g.frng, 0.15) {
		return g.slip(v)
	}
	return v
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// Completeness says what a sparse found record keeps (SparsePair).
type Completeness string

// What a found child gives, from least to most.
const (
	GivenOnly          Completeness = "given name"
	GivenFather        Completeness = "given name + father's given name"
	GivenVillage       Completeness = "given name + village"
	GivenFatherVillage Completeness = "given name + father's given name + village"
)

// SparsePair returns the missing report of a child and a found record
// holding only what completeness keeps: the child's given name, the
// father's given name, the village; no surname, age, sex, place or photo.
func (g *Generator) SparsePair(completeness Completeness) (missing, found models.Child) {
	lost := g.date(g.cfg.From, g.cfg.To.AddDate(0, 0, -1))
	p := g.person(lost)
	missing = g.missing(p, lost)
	found = g.record(models.KindFound, g.foundDate(lost))
	w := nameWriter{g: g, script: g.c.states[p.st].script, typo: 0.1}
	found.Names = []string{w.write(p.given)}
	if completeness == GivenFather || completeness == GivenFatherVillage {
		found.Guardians = []models.Guardian{{Name: g.fatherAsTold(p), Relation: models.RelationFather}}
	}
	if completeness == GivenVillage || completeness == GivenFatherVillage {
		found.Home.Village = g.villageAsTold(p.fam.village)
	}
	return missing, found
}

// Package synth generates synthetic Indian child records for tests and
// benchmarks: seeded and reproducible, with names by region in their usual
// spellings, spelling variants and native scripts (from the lists under
// data/), ages, sexes, identifying marks written the way people write them,
// states and districts, dates, and known true missing/found pairs whose two
// records differ the way two independent registrations of one child do.
//
// It models no real person: every name is drawn independently from common
// given names and surnames.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// Config shapes the generated records. The zero Config gives the defaults.
type Config struct {
	// MissingShare is the share of Next records that are missing-child
	// reports; the rest are found children. Default 0.55.
	MissingShare float64
	// From and To bound the dates records are observed on. Defaults
	// 2016-01-01 and 2025-06-30.
	From, To time.Time
	// NativeScript is the probability that a found child's names are written
	// in the script of the state that registers the child (when the name
	// list has that form); missing reports use half of it. Default 0.3.
	NativeScript float64
	// IDPrefix starts every record id, to keep several generators' ids apart.
	IDPrefix string
	// Relatives are real fathers' names to draw from (LoadRelatives); nil
	// draws fathers from the given-name lists.
	Relatives []Relative
}

func (c Config) withDefaults() Config {
	if c.MissingShare <= 0 || c.MissingShare > 1 {
		c.MissingShare = 0.55
	}
	if c.From.IsZero() {
		c.From = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.To.IsZero() || !c.To.After(c.From) {
		c.To = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	}
	if c.NativeScript <= 0 || c.NativeScript > 1 {
		c.NativeScript = 0.3
	}
	return c
}

// Generator produces records. It is not safe for concurrent use; give each
// goroutine its own, with its own seed and IDPrefix.
type Generator struct {
	rng *rand.Rand
	// frng draws families, homes and clothing, so that the draws of rng,
	// and every other field of the records, are those made before they
	// existed.
	frng *rand.Rand
	cfg  Config
	c    *corpus
	seq  int

	stateW   []float64
	commW    [][]float64 // per state
	given    map[string]*picker
	surnames map[string]*picker
	pets     map[string]*picker // by sex
	markW    []float64          // per mark type
	partW    []float64
}

// picker draws weighted names from one pool and sex.
type picker struct {
	names []*name
	cum   []float64
}

func newPicker(ns []name, keep func(*name) bool) *picker {
	p := &picker{}
	total := 0.0
	for i := range ns {
		if keep(&ns[i]) {
			total += ns[i].weight
			p.names = append(p.names, &ns[i])
			p.cum = append(p.cum, total)
		}
	}
	return p
}

func (p *picker) pick(r *rand.Rand) *name {
	if len(p.names) == 0 {
		return nil
	}
	x := r.Float64() * p.cum[len(p.cum)-1]
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if p.cum[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return p.names[lo]
}

// New returns a generator whose output depends only on seed and cfg. It
// panics if the embedded data files are malformed, which the package's
// tests rule out.
func New(seed int64, cfg Config) *Generator {
	c, err := loadCorpus()
	if err != nil {
		panic(fmt.Sprintf("synth: %v", err))
	}
	g := &Generator{
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		frng:     rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d)),
		cfg:      cfg.withDefaults(),
		c:        c,
		given:    map[string]*picker{},
		surnames: map[string]*picker{},
		pets:     map[string]*picker{},
	}
	for _, s := range c.states {
		g.stateW = append(g.stateW, s.weight)
		var w []float64
		for _, cm := range s.communities {
			w = append(w, cm.weight)
		}
		g.commW = append(g.commW, w)
	}
	for _, sex := range []string{"m", "f"} {
		for pool, ns := range c.given {
			g.given[pool+"/"+sex] = newPicker(ns, func(n *name) bool { return n.sex == sex || n.sex == "u" })
		}
		for pool, ns := range c.surnames {
			g.surnames[pool+"/"+sex] = newPicker(ns, func(n *name) bool { return n.sex == sex || n.sex == "-" })
		}
		g.pets[sex] = newPicker(c.pets, func(n *name) bool { return n.sex == sex || n.sex == "u" })
	}
	for _, t := range c.markTypes {
		g.markW = append(g.markW, markTypeWeight(t))
	}
	for _, p := range c.markParts {
		w := 1.0
		if p.region == "face" {
			w = 2 // visible marks are the ones people describe
		}
		g.partW = append(g.partW, w)
	}
	return g
}

// markTypeWeight is how common each mark type is in records.
func markTypeWeight(t string) float64 {
	switch t {
	case "mole":
		return 35
	case "scar":
		return 25
	case "birthmark":
		return 12
	case "burn":
		return 10
	case "cut":
		return 8
	}
	return 3
}

// Next returns one record with no counterpart: a missing report with
// probability MissingShare, else a found child.
func (g *Generator) Next() models.Child {
	on := g.date(g.cfg.From, g.cfg.To)
	p := g.person(on)
	if g.chance(g.cfg.MissingShare) {
		return g.missing(p, on)
	}
	st, d := g.foundPlace(p)
	c := g.found(p, on, st, d)
	g.writeFamilyFound(&c, p, on, on.AddDate(0, 0, -g.frng.IntN(400)))
	return c
}

// Pair returns the missing report and the later found-child registration of
// one child: the true match a retrieval or scoring run should find.
func (g *Generator) Pair() (missing, found models.Child) {
	lost := g.date(g.cfg.From, g.cfg.To.AddDate(0, 0, -1))
	p := g.person(lost)
	missing = g.missing(p, lost)
	st, d := g.foundPlace(p)
	on := g.foundDate(lost)
	found = g.found(p, on, st, d)
	g.writeFamilyFound(&found, p, on, lost)
	return missing, found
}

// person is the child behind the records.
type person struct {
	sex      models.Sex // female or male
	st, dist int
	comm     community
	given    *name
	surname  *name  // nil when the community uses an initial
	initial  string // "S." for Tamil names
	pet      *name  // nil when the child has no pet name
	kumar    bool   // writes "Kumar"/"Kumari" after the given name
	md       bool   // a Muslim boy's "Md." before the name
	birth    time.Time
	heightZ  float64
	marks    []mark
	father   string
	lang     string
	fam      *family
}

type mark struct {
	typ  string
	part int // index into corpus.markParts
	side string
}

func (g *Generator) weighted(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	x := g.rng.Float64() * total
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *Generator) oneOf(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// missingAge draws the age of a missing child: most are teenagers.
func missingAge(r *rand.Rand) int {
	w := [18]float64{3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 8, 8, 8, 13, 13, 13, 13}
	total := 0.0
	for _, x := range w {
		total += x
	}
	x := r.Float64() * total
	for a, v := range w {
		if x < v {
			return a
		}
		x -= v
	}
	return 17
}

// person draws a child, of the age of a missing child on anchor (the date
// of the child's first record).
func (g *Generator) person(anchor time.Time) *person {
	st := g.weighted(g.stateW)
	s := &g.c.states[st]
	cm := s.communities[g.weighted(g.commW[st])]
	p := &person{st: st, dist: g.rng.IntN(len(s.districts)), comm: cm, heightZ: g.rng.NormFloat64()}
	sex := "m"
	p.sex = models.SexMale
	if g.chance(0.56) {
		sex, p.sex = "f", models.SexFemale
	}
	p.given = g.given[cm.given+"/"+sex].pick(g.rng)
	if cm.surname == "initial" {
		p.initial = string(rune('A'+g.rng.IntN(26))) + "."
	} else {
		p.surname = g.surnames[cm.surname+"/"+sex].pick(g.rng)
	}
	if cm.given == "hindi" || cm.given == "bengali" || cm.given == "adivasi" {
		if g.chance(0.6) {
			p.pet = g.pets[sex].pick(g.rng)
		}
		p.kumar = (cm.given == "hindi" || cm.given == "adivasi") && g.chance(0.2)
	}
	p.md = cm.given == "muslim" && sex == "m" && g.chance(0.35)
	p.birth = anchor.AddDate(-missingAge(g.rng), 0, -g.rng.IntN(365))
	n := 0
	if g.chance(0.45) {
		n = 1
		if g.chance(0.25) {
			n = 2
		}
	}
	for i := 0; i < n; i++ {
		m := mark{typ: g.c.markTypes[g.weighted(g.markW)], part: g.weighted(g.partW)}
		part := g.c.markParts[m.part]
		if part.sided || g.chance(0.15) {
			m.side = "left"
			if g.chance(0.5) {
				m.side = "right"
			}
		}
		p.marks = append(p.marks, m)
	}
	if f := g.given[cm.given+"/m"].pick(g.rng); f != nil {
		p.father = f.latin[0]
		if p.surname != nil {
			p.father += " " + p.surname.latin[0]
		}
	}
	if len(s.languages) > 0 {
		p.lang = s.languages[0]
	}
	g.drawFamily(p)
	return p
}

// date is a uniform day in [from, to].
func (g *Generator) date(from, to time.Time) time.Time {
	days := int(to.Sub(from).Hours() / 24)
	if days < 1 {
		return from
	}
	return from.AddDate(0, 0, g.rng.IntN(days+1))
}

// foundDate is when a child lost on lost is found: most within weeks, some
// after years. It never passes cfg.To.
func (g *Generator) foundDate(lost time.Time) time.Time {
	for try := 0; try < 3; try++ {
		var days int
		switch x := g.rng.Float64(); {
		case x < 0.35:
			days = 1 + g.rng.IntN(30)
		case x < 0.65:
			days = 31 + g.rng.IntN(150)
		case x < 0.85:
			days = 181 + g.rng.IntN(915)
		default:
			days = 1096 + g.rng.IntN(1825)
		}
		if on := lost.AddDate(0, 0, days); !on.After(g.cfg.To) {
			return on
		}
	}
	return g.date(lost.AddDate(0, 0, 1), g.cfg.To)
}

// foundPlace is where the child is found: home district, elsewhere in the
// home state, or a hub city (stations and shelters of big cities).
func (g *Generator) foundPlace(p *person) (st, dist int) {
	switch x := g.rng.Float64(); {
	case x < 0.5:
		return p.st, p.dist
	case x < 0.7:
		return p.st, g.rng.IntN(len(g.c.states[p.st].districts))
	default:
		h := g.c.hubs[g.rng.IntN(len(g.c.hubs))]
		return h.state, h.district
	}
}

// ageOn is p's age in whole years on t.
func (p *person) ageOn(t time.Time) int {
	a := t.Year() - p.birth.Year()
	if t.YearDay() < p.birth.YearDay() {
		a--
	}
	if a < 0 {
		a = 0
	}
	return a
}

// medianHeightCM is a rough median height of Indian children by age.
func medianHeightCM(age int) float64 {
	h := [...]float64{60, 74, 85, 93, 100, 107, 113, 119, 124, 129, 134, 139, 144, 150, 155, 159, 161, 163}
	if age >= len(h) {
		return h[len(h)-1] + 2
	}
	return h[age]
}

func (g *Generator) height(p *person, age int, noise float64, round float64) float64 {
	h := medianHeightCM(age)*(1+0.045*p.heightZ) + noise*g.rng.NormFloat64()
	h = math.Round(h/round) * round
	return math.Max(models.MinHeightCM, math.Min(models.MaxHeightCM, h))
}

func (g *Generator) nextID(kind byte) string {
	g.seq++
	return fmt.Sprintf("%s%c%08d", g.cfg.IDPrefix, kind, g.seq)
}

func (g *Generator) record(kind models.Kind, on time.Time) models.Child {
	id := g.nextID('M')
	if kind == models.KindFound {
		id = g.nextID('F')
	}
	created := on.AddDate(0, 0, g.rng.IntN(8)).Add(time.Duration(g.rng.IntN(86400)) * time.Second)
	return models.Child{
		ID: id, Kind: kind, ObservedOn: models.DateOf(on), Status: models.StatusOpen,
		CreatedAt: created, UpdatedAt: created,
	}
}

// missing is the police report of p going missing on on: full name from the
// family, exact age, home place, the marks the parents remember.
func (g *Generator) missing(p *person, on time.Time) models.Child {
	c := g.record(models.KindMissing, on)
	script := g.c.states[p.st].script
	native := g.chance(g.cfg.NativeScript / 2)
	w := nameWriter{g: g, script: script, native: native, upper: g.chance(0.15), typo: 0.03}
	c.Names = []string{w.full(p, p.kumar)}
	if p.pet != nil && g.chance(0.3) {
		c.Names = append(c.Names, w.write(p.pet))
	}
	c.Sex = p.sex
	if g.chance(0.005) {
		c.Sex = models.SexUnknown
	}
	a := p.ageOn(on)
	c.Age = &models.AgeRange{Min: a, Max: a}
	if g.chance(0.1) {
		c.Age = &models.AgeRange{Min: max(0, a-1), Max: a + 1}
	}
	c.Place = g.place(p.st, p.dist)
	c.Marks = g.describeMarks(p.marks, 0.85, false)
	if g.chance(0.5) {
		c.HeightCM = g.height(p, a, 5, 5)
	}
	if p.father != "" && g.chance(0.8) {
		c.Guardians = []models.Guardian{{Name: p.father, Relation: models.RelationFather}}
	}
	g.writeFamilyMissing(&c, p)
	if p.lang != "" && g.chance(0.7) {
		c.Languages = []string{p.lang}
	}
	return c
}

// found is a CWC's registration of p found on on at (st, dist): the name the
// child gives (often a given or pet name only), an estimated age, the marks
// the staff notice.
func (g *Generator) found(p *person, on time.Time, st, dist int) models.Child {
	c := g.record(models.KindFound, on)
	native := g.chance(g.cfg.NativeScript)
	w := nameWriter{g: g, script: g.c.states[st].script, native: native, upper: g.chance(0.1), typo: 0.1}
	a := p.ageOn(on)
	x := g.rng.Float64()
	switch {
	case a <= 2 && x < 0.6:
		// an infant: no name
	case a <= 2 && x < 0.9:
		c.Names = []string{"Baby"}
	case a > 2 && x < 0.1:
		// the child does not or cannot say
	case x < 0.22 && p.pet != nil:
		c.Names = []string{w.write(p.pet)}
	case x < 0.67:
		c.Names = []string{w.given(p)}
	default:
		c.Names = []string{w.full(p, false)}
	}
	c.Sex = p.sex
	switch y := g.rng.Float64(); {
	case y < 0.015:
		c.Sex = models.SexUnknown
	case y < 0.018: // a recording error
		c.Sex = map[models.Sex]models.Sex{models.SexMale: models.SexFemale, models.SexFemale: models.SexMale}[p.sex]
	}
	sd := 0.7 + 0.08*float64(a)
	est := int(math.Round(float64(a) + sd*g.rng.NormFloat64()))
	est = max(0, min(models.MaxAgeYears-1, est))
	switch y := g.rng.Float64(); {
	case y < 0.45:
		c.Age = &models.AgeRange{Min: est, Max: est}
	case y < 0.85:
		c.Age = &models.AgeRange{Min: max(0, est-1), Max: est + 1}
	default:
		c.Age = &models.AgeRange{Min: max(0, est-2), Max: est + 1}
	}
	c.Place = g.place(st, dist)
	ms := append([]mark(nil), p.marks...)
	for i := range ms {
		if g.chance(0.05) && ms[i].side != "" { // mirror-image mistake
			ms[i].side = map[string]string{"left": "right", "right": "left"}[ms[i].side]
		}
	}
	if g.chance(0.08) { // a new scar since
		ms = append(ms, mark{typ: "scar", part: g.weighted(g.partW)})
	}
	c.Marks = g.describeMarks(ms, 0.65, true)
	if g.chance(0.6) {
		c.HeightCM = g.height(p, a, 2, 1)
	}
	if p.lang != "" && g.chance(0.4) {
		c.Languages = []string{p.lang}
	}
	return c
}

// place writes a state and district the ways registers do.
func (g *Generator) place(st, dist int) models.Place {
	s := &g.c.states[st]
	d := s.districts[dist]
	dn := d.names[0]
	switch x := g.rng.Float64(); {
	case x < 0.1 && len(d.names) > 1:
		dn = d.names[1+g.rng.IntN(len(d.names)-1)]
	case x < 0.15:
		dn = "Dist. " + dn
	case x < 0.2:
		dn += " District"
	case x < 0.3:
		dn = strings.ToUpper(dn)
	}
	state := s.name
	if g.chance(0.1) {
		state = strings.ToUpper(state)
	}
	return models.Place{State: state, District: dn}
}

// describeMarks writes each mark with probability keep, in a random
// template; coarse writes some at region precision, as a stranger does.
func (g *Generator) describeMarks(ms []mark, keep float64, coarse bool) string {
	var parts []string
	for _, m := range ms {
		if !g.chance(keep) {
			continue
		}
		parts = append(parts, g.describeMark(m, coarse))
	}
	if len(parts) == 0 {
		if len(ms) == 0 && g.chance(0.15) {
			return g.oneOf(g.c.noMarks)
		}
		return ""
	}
	sep := ", "
	if g.chance(0.3) {
		sep = " and "
	}
	return strings.Join(parts, sep)
}

func (g *Generator) describeMark(m mark, coarse bool) string {
	part := g.c.markParts[m.part]
	if coarse && g.chance(0.15) {
		for _, p := range g.c.markParts {
			if p.key == part.region {
				part = p // "on the face" for a mole on the cheek
				break
			}
		}
	}
	side := m.side
	if side != "" && g.chance(0.15) {
		side = "" // the writer leaves the side out
	}
	var ts []markTemplate
	for _, t := range g.c.templates {
		if t.noSide == (side == "") {
			ts = append(ts, t)
		}
	}
	t := ts[g.rng.IntN(len(ts))]
	pick := func(words []string) string {
		if t.hindi && len(words) > 1 {
			return words[len(words)/2+g.rng.IntN(len(words)-len(words)/2)]
		}
		return g.oneOf(words)
	}
	out := strings.ReplaceAll(t.pattern, "{type}", g.oneOf(g.c.markTypeWords[m.typ]))
	out = strings.ReplaceAll(out, "{part}", pick(part.words))
	if side != "" {
		out = strings.ReplaceAll(out, "{side}", pick(g.c.sides[side]))
	}
	return out
}

// nameWriter writes one record's names consistently: one script choice,
// one case, its own rate of spelling slips.
type nameWriter struct {
	g      *Generator
	script string
	native bool
	upper  bool
	typo   float64
}

// write spells n: in the record's script when chosen and available, else in
// a Latin spelling (the usual one most often), sometimes with a slip.
func (w nameWriter) write(n *name) string {
	if w.native {
		if f, ok := n.native[w.script]; ok {
			return f
		}
	}
	s := n.latin[0]
	if len(n.latin) > 1 && w.g.chance(0.35) {
		s = n.latin[1+w.g.rng.IntN(len(n.latin)-1)]
	}
	if w.g.chance(w.typo) {
		s = w.g.slip(s)
	}
	if w.upper {
		s = strings.ToUpper(s)
	}
	return s
}

// given writes the given name, with "Md." for Muslim boys who use it.
func (w nameWriter) given(p *person) string {
	s := w.write(p.given)
	if p.md && w.g.chance(0.7) {
		s = w.g.oneOf([]string{"Md. ", "Md ", "Mohd. ", "Mohammad "}) + s
	}
	return s
}

// full writes the whole name: given name, "Kumar"/"Kumari" when kumar,
// then the surname, or an initial before or after (Tamil style).
func (w nameWriter) full(p *person, kumar bool) string {
	s := w.given(p)
	if kumar {
		k := "Kumar"
		if p.sex == models.SexFemale {
			k = "Kumari"
		}
		if w.upper {
			k = strings.ToUpper(k)
		}
		s += " " + k
	}
	switch {
	case p.surname != nil:
		return s + " " + w.write(p.surname)
	case p.initial != "" && w.g.chance(0.5):
		return p.initial + " " + s
	case p.initial != "":
		return s + " " + strings.TrimSuffix(p.initial, ".")
	}
	return s
}

// slip applies one transliteration or typing slip that people make with
// Indian names in Latin letters.
func (g *Generator) slip(s string) string {
	rules := [...][2]string{
		{"aa", "a"}, {"ee", "i"}, {"oo", "u"}, {"sh", "s"}, {"v", "w"}, {"w", "v"},
		{"ph", "f"}, {"th", "t"}, {"dh", "d"}, {"z", "j"}, {"i", "ee"}, {"u", "oo"},
		{"ck", "k"}, {"tt", "t"}, {"nn", "n"}, {"ll", "l"}, {"y", "i"}, {"a", "aa"},
	}
	lower := strings.ToLower(s)
	start := g.rng.IntN(len(rules))
	for i := range rules {
		r := rules[(start+i)%len(rules)]
		if j := strings.Index(lower[1:], r[0]); j >= 0 {
			j++ // never the first letter
			return s[:j] + r[1] + s[j+len(r[0]):]
		}
	}
	return s
}

// TruePair locates one true missing/found pair in a population by index.
type TruePair struct{ Missing, Found int }

// Population returns n records (or 2*pairs, if more) with pairs true pairs
// spread evenly among unpaired records, each pair's missing report directly
// before its found registration, and where the pairs are. Benchmarks query
// with records[p.Missing] and expect records[p.Found].
func (g *Generator) Population(n, pairs int) ([]models.Child, []TruePair) {
	n = max(n, 2*pairs)
	recs := make([]models.Child, 0, n)
	truth := make([]TruePair, 0, pairs)
	step := n
	if pairs > 0 {
		step = n / pairs
	}
	for len(recs) < n {
		if len(truth) < pairs && (len(recs)%step == 0 || n-len(recs) <= 2*(pairs-len(truth))) && len(recs)+2 <= n {
			m, f := g.Pair()
			truth = append(truth, TruePair{Missing: len(recs), Found: len(recs) + 1})
			recs = append(recs, m, f)
			continue
		}
		recs = append(recs, g.Next())
	}
	return recs, truth
}

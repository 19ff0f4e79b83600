package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"
	"unicode"
)

// Person is one row of a set of real names: the same person written in
// Latin letters and in Devanagari. Index 0 of each is the full name; later
// ones are other forms of it (a cricket scorecard's "Sharma, RG").
type Person struct {
	Latin, Devanagari []string
}

// Split is a half of the people: dev for developing and tuning, test left
// untouched for the final figure.
type Split string

// The two splits.
const (
	SplitDev  Split = "dev"
	SplitTest Split = "test"
)

// splitSalt keys the split hash. Changing it would move people between
// the splits and spoil the untouched test split: never change it.
const splitSalt = "trackmatch/names-split/v1\x00"

// SplitOf is the split a person belongs to: the parity of an FNV-1a hash
// of the salted full Latin and Devanagari names, so that a person (and any
// duplicate row of them) always lands in the same half, whatever else is
// in the file.
func SplitOf(p Person) Split {
	if hashOf(p)&1 == 0 {
		return SplitDev
	}
	return SplitTest
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// ReadPeople reads either shared set of real names by its header:
// affidavit-relatives.csv (english, hindi, state) or cricketers.csv
// (english_full, english_scorecard, hindi_full, hindi_scorecard, ...).
// Rows with an empty full name on either side are skipped.
func ReadPeople(r io.Reader) ([]Person, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read names header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var latin, deva []string
	switch {
	case has(col, "english", "hindi"):
		latin, deva = []string{"english"}, []string{"hindi"}
	case has(col, "english_full", "hindi_full", "english_scorecard", "hindi_scorecard"):
		latin, deva = []string{"english_full", "english_scorecard"}, []string{"hindi_full", "hindi_scorecard"}
	default:
		return nil, fmt.Errorf("names: unknown header %q (want english,hindi or english_full,english_scorecard,hindi_full,hindi_scorecard)", head)
	}
	var out []Person
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read names line %d: %w", line, err)
		}
		get := func(cols []string) []string {
			var vs []string
			for _, c := range cols {
				v := ""
				if i := col[c]; i < len(rec) {
					v = strings.TrimSpace(rec[i])
				}
				vs = append(vs, v)
			}
			return vs
		}
		p := Person{Latin: get(latin), Devanagari: get(deva)}
		if p.Latin[0] == "" || p.Devanagari[0] == "" {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func has(col map[string]int, names ...string) bool {
	for _, n := range names {
		if _, ok := col[n]; !ok {
			return false
		}
	}
	return true
}

// letterKey is a name's letters only, lowercased: "A . ARAVIND" and
// "A.Aravind" are one key. Two rows with one key are taken for one person.
func letterKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// latinWords are the lowercased Latin words of a name, initials included:
// what a hard negative shares with it.
func latinWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
}

// MakePairs builds the labelled pairs of one split of people:
//
//   - people are first deduplicated by their full Latin name's letters
//     (the same father on two affidavits), then only those of split kept;
//   - a same pair for each queried person: the full Latin name against the full
//     Devanagari one, in a direction fixed by a hash bit; and for every
//     other form (a scorecard's "Sharma, RG", "आर शर्मा") that form against
//     the full name in the other script;
//   - the people of the split are either queried or negatives, by a third
//     hash bit, so that no name of a queried person is ever in the gallery
//     as someone else's negative;
//   - a different pair for each queried person: their full name against
//     the full name, in the other script, of a negative person who shares a
//     Latin word with them (a surname, an initial or a given name: a hard
//     negative), drawn with a generator seeded by seed; a random negative
//     person when none shares a word.
//
// The same seed and people always give the same pairs.
func MakePairs(people []Person, split Split, seed uint64) []Pair {
	ps := SplitPeople(people, split)
	var queried, negatives []Person
	for _, p := range ps {
		if hashOf(p)&4 == 0 {
			queried = append(queried, p)
		} else {
			negatives = append(negatives, p)
		}
	}
	byWord := map[string][]int{}
	for i, p := range negatives {
		for _, w := range uniq(latinWords(p.Latin[0])) {
			byWord[w] = append(byWord[w], i)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e616d6573))
	var out []Pair
	for _, p := range queried {
		flip := hashOf(p)&2 != 0
		out = append(out, oriented(Pair{A: p.Latin[0], B: p.Devanagari[0], Same: true}, flip))
		for k := 1; k < len(p.Latin) && k < len(p.Devanagari); k++ {
			if p.Latin[k] != "" {
				out = append(out, Pair{A: p.Latin[k], B: p.Devanagari[0], Same: true})
			}
			if p.Devanagari[k] != "" {
				out = append(out, Pair{A: p.Devanagari[k], B: p.Latin[0], Same: true})
			}
		}
		if len(negatives) == 0 {
			continue
		}
		var cands []int
		for _, w := range uniq(latinWords(p.Latin[0])) {
			cands = append(cands, byWord[w]...)
		}
		j := rng.IntN(len(negatives))
		if len(cands) > 0 {
			j = cands[rng.IntN(len(cands))]
		}
		d := Pair{A: p.Latin[0], B: negatives[j].Devanagari[0]}
		if flip {
			d = Pair{A: p.Devanagari[0], B: negatives[j].Latin[0]}
		}
		out = append(out, d)
	}
	return out
}

// SplitPeople are the people of one split, deduplicated first by their
// full Latin name's letters (the same father on two affidavits).
func SplitPeople(people []Person, split Split) []Person {
	seen := map[string]bool{}
	var ps []Person
	for _, p := range people {
		k := letterKey(p.Latin[0])
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if SplitOf(p) == split {
			ps = append(ps, p)
		}
	}
	return ps
}

// oriented swaps A and B when flip is set.
func oriented(p Pair, flip bool) Pair {
	if flip {
		p.A, p.B = p.B, p.A
	}
	return p
}

// hashOf is the salted FNV-1a hash of a person's full names. Its bits
// decide the split (bit 0), the script a person's pairs query with (bit
// 1) and whether the person is queried or a negative (bit 2).
func hashOf(p Person) uint64 {
	h := fnv.New64a()
	io.WriteString(h, splitSalt)
	io.WriteString(h, first(p.Latin))
	io.WriteString(h, "\x00")
	io.WriteString(h, first(p.Devanagari))
	return h.Sum64()
}

func uniq(ws []string) []string {
	out := ws[:0:0]
	seen := map[string]bool{}
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

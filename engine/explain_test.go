package engine

import (
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestSummariesQuoteNoRecord: a contribution's summary says what its level
// means and never quotes a name, mark, place, language, height or date of
// either record, while its detail does.
func TestSummariesQuoteNoRecord(t *testing.T) {
	s := defaultScorer(t)
	pairs := [][2]*models.Child{
		{
			{Kind: models.KindMissing, Names: []string{"Puja Kumari"}, Sex: models.SexFemale, Age: ageRange(8, 10),
				ObservedOn: "2019-05-01", HeightCM: 125, Marks: "black mole on left cheek",
				Languages: []string{"Hindi", "Bhojpuri"}, Place: models.Place{State: "U.P.", District: "Allahabad"}},
			{Kind: models.KindFound, Names: []string{"पूजा"}, Sex: models.SexFemale, Age: ageRange(13, 14),
				ObservedOn: "2024-05-01", HeightCM: 150, Marks: "til baayen gaal par",
				Languages: []string{"हिंदी"}, Place: models.Place{State: "Uttar Pradesh", District: "Prayagraj"}},
		},
		{
			{Kind: models.KindMissing, Names: []string{"Ravindra Yadav"}, Sex: models.SexMale, Age: ageRange(6, 7),
				ObservedOn: "2021-02-11", HeightCM: 111, Marks: "burn scar on right forearm",
				Languages: []string{"Marathi"}, Place: models.Place{State: "Maharashtra", District: "Pune"}},
			{Kind: models.KindFound, Names: []string{"Mohammed Irfan"}, Sex: models.SexMale, Age: ageRange(14, 15),
				ObservedOn: "2020-01-03", HeightCM: 171, Marks: "tattoo of Om on left hand, zzqx",
				Languages: []string{"Tamil"}, Place: models.Place{State: "Tamil Nadu", District: "Madurai"}},
		},
		{
			{Kind: models.KindMissing, Names: []string{"Sunita"}, Marks: "qwerty asdfgh"},
			{Kind: models.KindFound, Names: []string{"Suneeta Devi"}, Marks: "mole on left cheek"},
		},
	}
	personal := []string{
		"Puja", "Kumari", "पूजा", "mole", "cheek", "til", "gaal", "Allahabad", "Prayagraj", "Uttar", "U.P.",
		"Hindi", "Bhojpuri", "हिंदी", "125", "150", "2019", "2024",
		"Ravindra", "Yadav", "Mohammed", "Irfan", "burn", "forearm", "tattoo", "zzqx", "Marathi", "Tamil",
		"Maharashtra", "Pune", "Madurai", "111", "171", "2021", "2020",
		"Sunita", "Suneeta", "Devi", "qwerty",
	}
	quoted := map[string]bool{}
	for i, p := range pairs {
		cmps := append(CompareAttributes(p[0], p[1], nil), s.FaceComparison(FaceScaleFused, 0.45, 2, 9, true))
		for _, c := range s.Score(cmps).Explanation {
			if c.Summary == "" || !strings.HasPrefix(c.Summary, c.Field+": ") {
				t.Errorf("pair %d %s: summary %q does not name its field", i, c.Field, c.Summary)
			}
			for _, w := range personal {
				if strings.Contains(c.Summary, w) {
					t.Errorf("pair %d %s: summary %q quotes %q", i, c.Field, c.Summary, w)
				}
				if strings.Contains(c.Detail, w) {
					quoted[w] = true
				}
			}
		}
	}
	// The words are the records' own: the details quote them (so the check
	// above could fail), and the summaries do not.
	for _, w := range []string{"Puja", "mole", "Ravindra", "Marathi", "Maharashtra", "qwerty", "125"} {
		if !quoted[w] {
			t.Errorf("no detail quotes %q: the records are not tested as intended", w)
		}
	}
}

// TestEveryLevelHasWords: each level of the default parameters has a
// sentence, so no summary falls back to a bare level name.
func TestEveryLevelHasWords(t *testing.T) {
	p := DefaultParams()
	for field, fp := range p.Fields {
		for level := range fp.Levels {
			w := levelMeaning(field, level)
			if w == "" || w == level {
				t.Errorf("%s level %q has no words: %q", field, level, w)
			}
		}
	}
	for level, want := range map[string]string{
		"1-3y/0.40-0.48":    "distance 0.40-0.48, photos 1-3 years apart",
		"10y+/>=0.80":       "distance >=0.80, photos 10 years or more apart",
		"u5:0-3y/<0.40":     "distance <0.40, photos 0-3 years apart, the earlier of a child under 5",
		"unknown/0.52-0.56": "distance 0.52-0.56, photo dates unknown",
	} {
		if got := levelMeaning(FieldFace, level); got != want {
			t.Errorf("face level %q: %q, want %q", level, got, want)
		}
	}
}

package engine

import (
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestExpectedGrowth(t *testing.T) {
	tests := []struct {
		name           string
		minAge, maxAge int
		sex            models.Sex
		years          float64
		lo, hi         float64 // the expected band must lie within [lo, hi]
	}{
		{"boy 8, five years: about 27 cm", 8, 8, models.SexMale, 5, 24, 31},
		{"girl 8–10, five years: a wide band", 8, 10, models.SexFemale, 5, 5, 31},
		{"girl 16, three years: almost no growth", 16, 16, models.SexFemale, 3, 0, 3},
		{"boy 17, two years", 17, 17, models.SexMale, 2, 0, 5},
		{"toddler 1, one year: about 10 cm", 1, 1, models.SexUnknown, 1, 8, 13},
		{"age unknown: 0 to 7 cm a year", -1, -1, models.SexUnknown, 2, 0, 14},
		{"no time", 8, 8, models.SexMale, 0, 0, 0},
	}
	for _, tt := range tests {
		lo, hi := expectedGrowthCM(tt.minAge, tt.maxAge, tt.sex, tt.years)
		if lo > hi || lo < tt.lo || hi > tt.hi {
			t.Errorf("%s: expected growth %.1f–%.1f cm, want within %.0f–%.0f", tt.name, lo, hi, tt.lo, tt.hi)
		}
	}
	if _, hi := expectedGrowthCM(-1, -1, models.SexUnknown, 2); hi != 14 {
		t.Errorf("unknown age over 2 years: at most %.1f cm, want 14", hi)
	}
	// Girls grow less than boys after 13; unknown sex spans both.
	gLo, gHi := expectedGrowthCM(13, 13, models.SexFemale, 3)
	bLo, bHi := expectedGrowthCM(13, 13, models.SexMale, 3)
	uLo, uHi := expectedGrowthCM(13, 13, models.SexUnknown, 3)
	if gHi >= bHi || gLo >= bLo || uLo > min(gLo, bLo) || uHi < max(gHi, bHi) {
		t.Errorf("13 over 3 years: girls %.1f–%.1f, boys %.1f–%.1f, unknown %.1f–%.1f", gLo, gHi, bLo, bHi, uLo, uHi)
	}
}

func TestMedianHeight(t *testing.T) {
	for s := range 2 {
		for a := 0.0; a < 18; a += 0.5 {
			if medianHeight(s, a+0.5) < medianHeight(s, a) {
				t.Errorf("median height falls from %.1f to %.1f years", a, a+0.5)
			}
		}
		if medianHeight(s, 30) != medianHeight(s, 18) || medianHeight(s, -1) != medianHeight(s, 0) {
			t.Error("median height is not flat outside 0–18")
		}
	}
}

func TestCompareHeight(t *testing.T) {
	tests := []struct {
		name         string
		m, f         models.Child
		level        string
		detailPieces []string
	}{
		{"boy 8 grows 26 cm in 5 years", models.Child{Sex: models.SexMale, Age: ageRange(8, 8), ObservedOn: "2019-05-01", HeightCM: 126},
			models.Child{ObservedOn: "2024-05-01", HeightCM: 152}, HeightFits, []string{"grew 26 cm", "over 5.0 years", "WHO/IAP"}},
		{"boy 8 grows 2 cm in 5 years", models.Child{Sex: models.SexMale, Age: ageRange(8, 8), ObservedOn: "2019-05-01", HeightCM: 126},
			models.Child{ObservedOn: "2024-05-01", HeightCM: 128}, HeightFar, []string{"grew 2 cm"}},
		{"boy 8 grows 8 cm in 5 years", models.Child{Sex: models.SexMale, Age: ageRange(8, 8), ObservedOn: "2019-05-01", HeightCM: 126},
			models.Child{ObservedOn: "2024-05-01", HeightCM: 134}, HeightNear, nil},
		{"girl 16 is as tall 4 years on", models.Child{Sex: models.SexFemale, Age: ageRange(16, 16), ObservedOn: "2020-01-01", HeightCM: 152},
			models.Child{ObservedOn: "2024-01-01", HeightCM: 154}, HeightFits, nil},
		{"girl 16 cannot grow 20 cm", models.Child{Sex: models.SexFemale, Age: ageRange(16, 16), ObservedOn: "2020-01-01", HeightCM: 152},
			models.Child{ObservedOn: "2024-01-01", HeightCM: 172}, HeightFar, nil},
		{"children do not shrink", models.Child{Age: ageRange(10, 10), ObservedOn: "2020-01-01", HeightCM: 140},
			models.Child{ObservedOn: "2022-01-01", HeightCM: 125}, HeightFar, []string{"shrank 15 cm"}},
		{"age from the later record", models.Child{ObservedOn: "2019-05-01", HeightCM: 126},
			models.Child{Sex: models.SexMale, Age: ageRange(13, 13), ObservedOn: "2024-05-01", HeightCM: 153}, HeightFits, nil},
		{"found first: growth runs from the found record", models.Child{Age: ageRange(12, 12), ObservedOn: "2024-01-01", HeightCM: 148},
			models.Child{Age: ageRange(10, 10), ObservedOn: "2022-01-01", HeightCM: 137}, HeightFits, []string{"on the found record (2022-01-01)"}},
		{"no dates, 3 cm apart", models.Child{HeightCM: 120}, models.Child{HeightCM: 123}, HeightFits, []string{"as recorded"}},
		{"no dates, 8 cm apart", models.Child{HeightCM: 120}, models.Child{HeightCM: 128}, HeightNear, nil},
		{"no dates, 12 cm apart", models.Child{HeightCM: 120}, models.Child{HeightCM: 132}, HeightFar, nil},
		{"no ages, 3 years", models.Child{ObservedOn: "2020-01-01", HeightCM: 120}, models.Child{ObservedOn: "2023-01-01", HeightCM: 138}, HeightFits, nil},
		{"one date unknown", models.Child{ObservedOn: "2020-01-01", HeightCM: 120}, models.Child{HeightCM: 138}, "", []string{"found record has no observation date"}},
		{"height unknown", models.Child{ObservedOn: "2020-01-01"}, models.Child{ObservedOn: "2023-01-01", HeightCM: 138}, "", []string{"not recorded on the missing record"}},
	}
	for _, tt := range tests {
		c := compareHeight(&tt.m, &tt.f)
		if c.Level != tt.level {
			t.Errorf("%s: level %q, want %q (%s)", tt.name, c.Level, tt.level, c.Detail)
		}
		for _, p := range tt.detailPieces {
			if !strings.Contains(c.Detail, p) {
				t.Errorf("%s: detail %q lacks %q", tt.name, c.Detail, p)
			}
		}
	}
}

package engine

import (
	"fmt"
	"math"

	"github.com/trackmatch/trackmatch/models"
)

// medianHeightCM is the median height in cm of Indian children at each whole
// year of age from 0 to 18, boys then girls: approximately the WHO Child
// Growth Standards (2006) to age 4 and the IAP 2015 growth charts for Indian
// children from age 5. Only differences between ages are used, so a bias of
// the whole chart does not matter; growth stops at 18.
var medianHeightCM = [2][19]float64{
	{49.9, 75.7, 87.1, 96.1, 103.3, 108.5, 114.6, 120.6, 126.2, 131.4, 136.4, 141.6, 147.2, 153.3, 159.6, 164.5, 167.8, 169.6, 170.7},
	{49.1, 74.0, 85.7, 95.1, 102.7, 107.5, 113.5, 119.5, 125.0, 130.5, 136.2, 142.2, 147.4, 151.2, 153.5, 154.9, 155.7, 156.2, 156.6},
}

// Height comparison allowances.
const (
	// heightErrorCM is the measurement error allowed between two records:
	// heights are often estimated by eye or converted from feet and inches.
	heightErrorCM = 5
	// growthSpread is the part of the expected growth added as slack both
	// ways, for children who grow faster or slower than the median.
	growthSpread = 0.25
	// pubertyTempoYears is how far a child's growth spurt may come before or
	// after the median's (early and late maturers).
	pubertyTempoYears = 1.5
	// pubertyFromAge is the youngest start age the tempo shift applies to:
	// younger children's growth is not shifted by puberty's timing.
	pubertyFromAge = 8
	// maxGrowthCMPerYear bounds growth when neither record gives an age:
	// above what school-age children grow.
	maxGrowthCMPerYear = 7
)

// medianHeight interpolates the median height at a fractional age for
// sex index s (0 boys, 1 girls), flat after 18.
func medianHeight(s int, age float64) float64 {
	t := medianHeightCM[s]
	switch {
	case age <= 0:
		return t[0]
	case age >= float64(len(t)-1):
		return t[len(t)-1]
	}
	i := int(age)
	return t[i] + (age-float64(i))*(t[i+1]-t[i])
}

// expectedGrowthCM returns the least and most growth in cm expected over
// years for a child whose age at the start was in [minAge, maxAge+1) (whole
// years, as records give them), of the given sex (unknown covers both). It
// samples start ages across the range and, from pubertyFromAge, shifts the
// growth curve by up to pubertyTempoYears each way for early and late
// maturers; it is the growth
// of the median child at those ages, before individual spread and
// measurement error. An unknown age (minAge < 0) gives 0 to
// maxGrowthCMPerYear a year.
func expectedGrowthCM(minAge, maxAge int, sex models.Sex, years float64) (lo, hi float64) {
	if years <= 0 {
		return 0, 0
	}
	if minAge < 0 {
		return 0, maxGrowthCMPerYear * years
	}
	sexes := []int{0, 1}
	switch sex {
	case models.SexMale:
		sexes = []int{0}
	case models.SexFemale:
		sexes = []int{1}
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range sexes {
		for start := float64(minAge); start <= float64(maxAge)+1; start += 0.25 {
			shifts := []float64{0}
			if start >= pubertyFromAge {
				shifts = []float64{-pubertyTempoYears, 0, pubertyTempoYears}
			}
			for _, shift := range shifts {
				a := start + shift
				g := medianHeight(s, a+years) - medianHeight(s, a)
				lo, hi = min(lo, g), max(hi, g)
			}
		}
	}
	return lo, hi
}

// compareHeight compares heights allowing for the growth expected between
// the two observation dates (expectedGrowthCM, from the earlier record's age,
// or the later one's moved back) widened by growthSpread of it and by
// heightErrorCM: "fits" within that, "near" within twice that, else "far".
// Dates are handled as for age: none on either record compares the heights
// as given; a date on one only leaves the growth unknown, so no evidence.
func compareHeight(missing, found *models.Child) FieldComparison {
	fc := FieldComparison{Field: FieldHeight}
	if missing.HeightCM <= 0 || found.HeightCM <= 0 {
		fc.Detail = unknownDetail("height", missing.HeightCM > 0, found.HeightCM > 0)
		return fc
	}
	tm, okM := missing.ObservedOn.Time()
	tf, okF := found.ObservedOn.Time()
	if okM != okF {
		fc.Detail = fmt.Sprintf("height: cannot be compared, the %s record has no observation date to allow for growth", recordSide(!okM))
		return fc
	}
	// Growth runs from the earlier record to the later.
	early, late := missing, found
	earlyName, lateName := "missing", "found"
	if okM && tm.After(tf) {
		early, late = found, missing
		earlyName, lateName = "found", "missing"
	}
	years := 0.0
	if okM {
		years = math.Abs(yearsFrom(tm, tf))
	}
	minAge, maxAge := -1, -1
	switch {
	case early.Age != nil:
		minAge, maxAge = early.Age.Min, early.Age.Max
	case late.Age != nil:
		minAge = max(0, late.Age.Min-int(math.Ceil(years)))
		maxAge = max(0, late.Age.Max-int(math.Floor(years)))
	}
	sex := missing.Sex
	if sex != models.SexFemale && sex != models.SexMale {
		sex = found.Sex
	}
	lo, hi := expectedGrowthCM(minAge, maxAge, sex, years)
	slack := heightErrorCM + growthSpread*hi
	grew := late.HeightCM - early.HeightCM
	var verdict string
	switch {
	case grew >= lo-slack && grew <= hi+slack:
		fc.Level, verdict = HeightFits, "fits"
	case grew >= lo-2*slack && grew <= hi+2*slack:
		fc.Level, verdict = HeightNear, "near"
	default:
		fc.Level, verdict = HeightFar, "far"
	}
	if years == 0 {
		when := "as recorded (neither record has a date)"
		if okM {
			when = "on the same date"
		}
		fc.Detail = fmt.Sprintf("height: %.0f cm on the missing record, %.0f cm on the found record, %s: %.0f cm apart, %s (allowing %.0f cm for measurement)",
			missing.HeightCM, found.HeightCM, when, math.Abs(grew), verdict, slack)
		return fc
	}
	change := "grew"
	if grew < 0 {
		change = "shrank"
	}
	fc.Detail = fmt.Sprintf("height: %.0f cm on the %s record (%s), %.0f cm on the %s record (%s): %s %.0f cm where %.0f–%.0f cm is expected over %.1f years (approximate WHO/IAP growth charts); %s, allowing %.0f cm either way",
		early.HeightCM, earlyName, early.ObservedOn, late.HeightCM, lateName, late.ObservedOn,
		change, math.Abs(grew), lo, hi, years, verdict, slack)
	return fc
}

package models

import "math"

// AgeTolerance is how many years apart two age ranges may be, once moved to
// one date, and still be "near", for a child of about ageYears at that date:
// one year for rounding; plus 0.15 per year between the records, because an
// age given long ago (often a caregiver's guess) errs more the longer ago it
// was given; plus 0.1 per year of age, because the older the child the
// rougher a guess from looks or a bone-age test (about ±1 year at 5, ±2
// years in the teens). The scorer (engine) grades ages with it and the
// attribute index retrieves with it, so retrieval is never stricter.
func AgeTolerance(gapYears, ageYears float64) float64 {
	return 1 + 0.15*math.Abs(gapYears) + 0.1*max(0, ageYears)
}

// AgeWidestTolerance is the widest AgeTolerance, in whole years rounded up,
// at which two records whose ages are within MaxAgeYears can be near: at a
// gap of g whole years the two moved ranges are at least g−MaxAgeYears
// apart and average at most MaxAgeYears+g/2 years of age, so beyond some
// gap no pair is near. The attribute index's age filter applies it before
// the exact test of each hit's gap.
func AgeWidestTolerance() int {
	widest := 0.0
	for g := 0; ; g++ {
		tol := AgeTolerance(float64(g+1), MaxAgeYears+float64(g)/2)
		if float64(g-MaxAgeYears) > tol {
			return int(math.Ceil(widest))
		}
		widest = max(widest, tol)
	}
}

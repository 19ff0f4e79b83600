package models

import (
	"math"
	"testing"
)

func TestAgeTolerance(t *testing.T) {
	for _, tt := range []struct{ gap, age, want float64 }{{0, 0, 1}, {5, 0, 1.75}, {0, 10, 2}, {10, 15, 4}, {-4, -1, 1.6}} {
		if got := AgeTolerance(tt.gap, tt.age); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("AgeTolerance(%g, %g) = %g, want %g", tt.gap, tt.age, got, tt.want)
		}
	}
}

// No two records of children are near beyond the widest tolerance: at
// every gap, the closest two moved ranges can be is within it only while
// the tolerance is within it.
func TestAgeWidestToleranceBoundsEveryNearPair(t *testing.T) {
	w := AgeWidestTolerance()
	if w < 4 || w > 2*MaxAgeYears {
		t.Fatalf("AgeWidestTolerance() = %d, implausible", w)
	}
	for g := 0; g <= 4*MaxAgeYears; g++ {
		for a1 := 0; a1 <= MaxAgeYears; a1 += 5 {
			for b2 := 0; b2 <= MaxAgeYears; b2++ {
				d := max(0, a1+g-b2)
				tol := AgeTolerance(float64(g)+0.99, float64(a1+g+b2)/2)
				if float64(d) <= tol && tol > float64(w) {
					t.Fatalf("gap %d, ages %d and %d: near at tolerance %.2f, over the widest %d", g, a1, b2, tol, w)
				}
			}
		}
	}
}

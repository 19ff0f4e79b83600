package engine

import (
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// storedBeforeNames2 is the default parameters as stored before the name
// field had its "similar" level (its mass was in "none"), before the
// initials field, and before dlib's own face bands.
func storedBeforeNames2() models.Params {
	p := cloneParams(DefaultParams())
	delete(p.Fields, FieldInitials)
	name := p.Fields[FieldName]
	delete(name.Levels, NameSimilar)
	name.Levels["none"] = models.LevelParams{M: 0.12, U: 0.929}
	for l := range maps.Clone(p.Fields[FieldFace].Levels) {
		if strings.HasPrefix(l, string(FaceScaleDlib)+":") {
			delete(p.Fields[FieldFace].Levels, l)
		}
	}
	return p
}

func TestWithDefaultsFillsFieldsAndLevelsStoredBeforeThem(t *testing.T) {
	old := storedBeforeNames2()
	if err := ValidateParams(old); err != nil {
		t.Fatalf("the old parameters are not valid as stored: %v", err)
	}
	def := DefaultParams()
	got := WithDefaults(old)

	if _, ok := old.Fields[FieldInitials]; ok {
		t.Fatal("WithDefaults changed the parameters it was given")
	}
	if !maps.Equal(got.Fields[FieldInitials].Levels, def.Fields[FieldInitials].Levels) {
		t.Errorf("initials %v, want the defaults %v", got.Fields[FieldInitials].Levels, def.Fields[FieldInitials].Levels)
	}
	if s := got.Fields[FieldName].Levels[NameSimilar]; s != def.Fields[FieldName].Levels[NameSimilar] {
		t.Errorf("name level similar %v, want the default %v", s, def.Fields[FieldName].Levels[NameSimilar])
	}
	// The stored levels make room for it in their proportions.
	oldExact, exact := old.Fields[FieldName].Levels["exact"], got.Fields[FieldName].Levels["exact"]
	if want := oldExact.M * (1 - def.Fields[FieldName].Levels[NameSimilar].M); math.Abs(exact.M-want) > 1e-12 {
		t.Errorf("name exact m %.5f, want %.5f", exact.M, want)
	}
	for l, lp := range def.Fields[FieldFace].Levels {
		if strings.HasPrefix(l, "dlib:") && got.Fields[FieldFace].Levels[l] != lp {
			t.Errorf("face level %s: %v, want the default %v", l, got.Fields[FieldFace].Levels[l], lp)
		}
	}
	if err := ValidateParams(got); err != nil {
		t.Fatalf("filled parameters: %v", err)
	}

	// Scoring old parameters counts a "similar" name and initials at their
	// defaults, not 0.
	s, err := NewScorer(old)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Score([]FieldComparison{{Field: FieldName, Level: NameSimilar}, {Field: FieldInitials, Level: "agree"}})
	sim, ini := def.Fields[FieldName].Levels[NameSimilar], def.Fields[FieldInitials].Levels["agree"]
	if want := math.Log2(sim.M/sim.U) + math.Log2(ini.M/ini.U); math.Abs(r.Score-want) > 1e-9 {
		t.Errorf("old parameters score similar+initials %.4f bits, want the defaults' %.4f (%v)", r.Score, want, r.Explanation)
	}

	// Nothing missing: the same parameters back.
	if p := WithDefaults(def); !maps.EqualFunc(p.Fields, def.Fields, func(a, b models.FieldParams) bool { return maps.Equal(a.Levels, b.Levels) }) {
		t.Error("WithDefaults changed complete parameters")
	}
}

package models

import (
	"strings"
	"testing"
	"time"
)

func TestValidateReportsEveryField(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Child{
		Kind: "lost", Sex: "boy", Age: &AgeRange{Min: 10, Max: 8}, ObservedOn: "2026-01-01", HeightCM: 250,
		Names: []string{"", "Ra\u202ehul", strings.Repeat("a", MaxNameRunes+1), "\xff"},
	}
	err := c.Validate(now)
	if ErrorCode(err) != EINVALID {
		t.Fatalf("code = %q, want %q (%v)", ErrorCode(err), EINVALID, err)
	}
	got := map[string]bool{}
	for _, f := range ErrorFields(err) {
		got[f.Field] = true
	}
	for _, want := range []string{"kind", "sex", "age.min", "observed_on", "height_cm", "names[0]", "names[1]", "names[2]", "names[3]"} {
		if !got[want] {
			t.Errorf("no error for field %s; got %v", want, ErrorFields(err))
		}
	}
}

func TestValidateAcceptsRealRecord(t *testing.T) {
	c := Child{Kind: KindMissing, Names: []string{"Pooja Kumari", "पूजा"}, Sex: SexFemale,
		Age: &AgeRange{Min: 8, Max: 10}, ObservedOn: "2024-03-15", HeightCM: 120, Marks: "mole on left cheek",
		Place: Place{State: "West Bengal", District: "Howrah"}}
	if err := c.Validate(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
}

func TestValidateRefusesImpossibleDates(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []Date{"0000-00-00", "9999-12-31", "2024-02-30", "yesterday", "1900-01-01"} {
		c := Child{Kind: KindFound, ObservedOn: d}
		if ErrorCode(c.Validate(now)) != EINVALID {
			t.Errorf("date %q accepted", d)
		}
	}
}

func TestAgeOnMovesRangeByCalendarYears(t *testing.T) {
	c := Child{Age: &AgeRange{Min: 8, Max: 10}, ObservedOn: "2019-05-01"}
	for _, tc := range []struct {
		on       string
		min, max int
	}{
		{"2024-05-01", 13, 15},
		{"2024-04-30", 12, 14},
		{"2019-05-01", 8, 10},
		{"2018-05-01", 7, 9},
	} {
		on, _ := Date(tc.on).Time()
		r, ok := c.AgeOn(on)
		if !ok || r.Min != tc.min || r.Max != tc.max {
			t.Errorf("AgeOn(%s) = %v %v, want %d-%d", tc.on, r, ok, tc.min, tc.max)
		}
	}
	c2 := Child{Age: &AgeRange{Min: 3, Max: 3}, ObservedOn: "2018-01-01"}
	on, _ := Date("2020-01-01").Time()
	if r, _ := c2.AgeOn(on); r.Min != 5 {
		t.Errorf("two calendar years without a leap day: got %d, want 5", r.Min)
	}
	if _, ok := (&Child{ObservedOn: "2019-05-01"}).AgeOn(on); ok {
		t.Error("AgeOn without an age must report ok=false")
	}
}

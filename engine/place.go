package engine

import (
	"fmt"
	"strings"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/places"
)

// comparePlaces: "district" (same state and district), "state" (same state,
// districts different or unknown on one side), "other" (different states).
// Places are resolved by models/places, as the index resolves them.
// No evidence when either state is unknown, even if the districts agree:
// district names repeat across states.
func comparePlaces(a, b models.Place) FieldComparison {
	fc := FieldComparison{Field: FieldPlace}
	pa, pb := places.Resolve(a), places.Resolve(b)
	if pa.State == "" || pb.State == "" {
		fc.Detail = "place: state " + strings.TrimPrefix(unknownDetail("", pa.State != "", pb.State != ""), ": ")
		return fc
	}
	note := ""
	switch {
	case pa.Inferred && pb.Inferred:
		note = "; both states read from the districts or place texts"
	case pa.Inferred:
		note = "; the missing record's state read from its district or place text"
	case pb.Inferred:
		note = "; the found record's state read from its district or place text"
	}
	if pa.StateKey() != pb.StateKey() {
		fc.Level = PlaceOther
		fc.Detail = fmt.Sprintf("place: different states (%s on the missing record, %s on the found record)%s", pa.State, pb.State, note)
		return fc
	}
	switch {
	case pa.District != "" && pa.DistrictKey() == pb.DistrictKey():
		fc.Level = PlaceDistrict
		fc.Detail = fmt.Sprintf("place: same district (%s, %s)%s", pa.District, pa.State, note)
	case pa.District != "" && pb.District != "":
		fc.Level = PlaceState
		fc.Detail = fmt.Sprintf("place: same state (%s), different districts (%s and %s)%s", pa.State, pa.District, pb.District, note)
	default:
		fc.Level = PlaceState
		fc.Detail = fmt.Sprintf("place: same state (%s); district %s%s", pa.State,
			strings.TrimPrefix(unknownDetail("", pa.District != "", pb.District != ""), ": "), note)
	}
	return fc
}

package engine

// Fields compared between a missing and a found record. Each is one term of
// the Fellegi–Sunter match weight, with its m and u probabilities per level
// in models.Params.
const (
	FieldFace     = "face"
	FieldName     = "name"
	FieldInitials = "initials" // the initials of agreeing names (names.Comparison.Initials)
	FieldAge      = "age"
	FieldSex      = "sex"
	FieldMarks    = "marks"
	FieldHeight   = "height"
	FieldLanguage = "language"
	FieldPlace    = "place"
	FieldDates    = "dates"
)

// FieldComparison is the outcome of comparing one field of two records: a
// discrete level that the scorer turns into a weight, and a sentence that
// explains it. An empty Level means the field is missing on either side and
// contributes nothing.
type FieldComparison struct {
	Field  string
	Level  string
	Detail string
	// TermFrequency is, for agreeing names, how common the agreeing name is
	// among records (0..1; 0 when unknown), so rare names can weigh more.
	TermFrequency float64
	// Distance is, for the face, the photo pair's distance, at which the
	// scorer interpolates the bands' weights; 0 for other fields.
	Distance float64
	// Conflict marks a hard contradiction (female against male) that blocks
	// the pair from candidate lists.
	Conflict bool
}

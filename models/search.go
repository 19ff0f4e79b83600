package models

// FaceHit is one gallery child among a face search's nearest neighbours:
// the closest pair between the query's faces and the child's photos.
type FaceHit struct {
	ChildID    string
	PhotoID    string
	FaceIndex  int
	QueryIndex int     // which query face reached this distance
	Distance   float64 // Euclidean distance between the two descriptors
	TakenOn    Date    // when the gallery photo was taken, if known
	// HasMFN says both sides have MobileFaceNet descriptors; MFNDistance is
	// then the cosine distance of the child's best MobileFaceNet pair.
	HasMFN      bool
	MFNDistance float64
}

// AttributeHit is one child returned by attribute retrieval: its relevance
// (for ordering only; not a probability) and, for each reason it was
// retrieved ("name_folded", "marks", "district", ...), the terms that agreed.
type AttributeHit struct {
	ID      string
	Score   float64
	Matched map[string][]string
}

// FaceEntry is one face descriptor in the vector index, with what the
// scorer needs to know about it without reading the store, and the record's
// kind and sex, by which the index partitions its descriptors.
type FaceEntry struct {
	ChildID    string
	PhotoID    string
	FaceIndex  int
	Kind       Kind
	Sex        Sex // the child's recorded sex; "" counts as SexUnknown
	TakenOn    Date
	Descriptor Descriptor
	MFN        *MFNDescriptor // the same face's MobileFaceNet descriptor; nil when none
}

// FaceQuery is one face search: the query child's face descriptors, its
// sex, and children it must not return. The sex narrows the search to the
// children it could be (see Admits): the scorer blocks the others anyway,
// so searching them would only cost time and take places in the pool.
type FaceQuery struct {
	Descriptors []Descriptor
	// MFN are the query faces' MobileFaceNet descriptors, searched in their
	// own space; the hits are the union of both searches.
	MFN []MFNDescriptor
	Sex Sex // the query child's recorded sex; "" counts as SexUnknown
}

// Admits reports whether a gallery child of sex g can be searched for q:
// recorded sexes conflict only female against male, and an unknown sex
// conflicts with nothing.
func (q FaceQuery) Admits(g Sex) bool {
	return !(q.Sex == SexFemale && g == SexMale || q.Sex == SexMale && g == SexFemale)
}

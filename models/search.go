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
// scorer needs to know about it without reading the store.
type FaceEntry struct {
	ChildID    string
	PhotoID    string
	FaceIndex  int
	Kind       Kind
	TakenOn    Date
	Descriptor Descriptor
}

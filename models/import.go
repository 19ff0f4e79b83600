package models

// Bulk import: a portal loads its existing register in batches. Each record
// is matched to a stored one by (kind, external_ref), so sending a batch
// again changes nothing, and each record and photo gets its own result.

// Bulk import limits, shared by the API, the command and the OpenAPI document.
const (
	// MaxImportBatch is the most records one import request may carry.
	MaxImportBatch = 1000
	// MaxImportBatchBytes is the most bytes one import request may carry,
	// photos (base64) included.
	MaxImportBatchBytes = 64 << 20
	// MaxImportPhotos is the most photos one imported record may carry.
	MaxImportPhotos = 10
)

// ChildInput is the editable part of a record as a client sends it: to
// POST or PUT /v1/children, and as each record of a bulk import. The id,
// timestamps and photos are the service's.
type ChildInput struct {
	Kind        Kind        `json:"kind"`
	ExternalRef string      `json:"external_ref,omitempty"`
	Names       []string    `json:"names,omitempty"`
	Sex         Sex         `json:"sex,omitempty"`
	Age         *AgeRange   `json:"age,omitempty"`
	ObservedOn  Date        `json:"observed_on,omitempty"`
	HeightCM    float64     `json:"height_cm,omitempty"`
	Marks       string      `json:"marks,omitempty"`
	Languages   []string    `json:"languages,omitempty"`
	Place       Place       `json:"place,omitempty"`
	Guardians   []Guardian  `json:"guardians,omitempty"`
	Home        Home        `json:"home,omitzero"`
	Clothing    Clothing    `json:"clothing,omitzero"`
	Descriptors Descriptors `json:"descriptors,omitzero"`
	Notes       string      `json:"notes,omitempty"`
	Status      Status      `json:"status,omitempty"`
}

// Child returns the record in models form, without an id or photos.
func (in *ChildInput) Child() *Child {
	return &Child{
		Kind: in.Kind, ExternalRef: in.ExternalRef, Names: in.Names, Sex: in.Sex, Age: in.Age,
		ObservedOn: in.ObservedOn, HeightCM: in.HeightCM, Marks: in.Marks, Languages: in.Languages,
		Place: in.Place, Guardians: in.Guardians, Home: in.Home, Clothing: in.Clothing, Descriptors: in.Descriptors,
		Notes: in.Notes, Status: in.Status,
	}
}

// ImportRecord is one record of a bulk import as a client sends it: the
// editable fields of a Child (as POST /v1/children takes them) and its
// photos. ExternalRef is required: it is what makes an import idempotent.
type ImportRecord struct {
	ChildInput
	Photos []ImportPhoto `json:"photos,omitempty"`
}

// ImportPhoto is one photo of an imported record: its bytes (base64 in
// JSON) and, optionally, the client's name for it (a file name), which is
// echoed in its result and never stored.
type ImportPhoto struct {
	Data []byte `json:"data"`
	Name string `json:"name,omitempty"`
}

// ImportStatus is what an import did with one record or photo.
type ImportStatus string

// Import outcomes.
const (
	ImportCreated   ImportStatus = "created"   // new record or photo stored
	ImportUnchanged ImportStatus = "unchanged" // already stored as sent
	ImportUpdated   ImportStatus = "updated"   // the stored record's fields were replaced
	ImportRefused   ImportStatus = "refused"   // not stored; Error says why
)

// ImportResult is what happened to one record of a batch. A refused record
// has Error (code, message, fields) and no ID. Photos has one result per
// photo sent, in order; a refused photo does not refuse its record.
type ImportResult struct {
	Index       int                 `json:"index"` // 0-based position in the batch
	Kind        Kind                `json:"kind,omitempty"`
	ExternalRef string              `json:"external_ref,omitempty"`
	Status      ImportStatus        `json:"status"`
	ID          string              `json:"id,omitempty"`
	Error       *Error              `json:"error,omitempty"`
	Photos      []ImportPhotoResult `json:"photos,omitempty"`
}

// ImportPhotoResult is what happened to one photo of an imported record.
type ImportPhotoResult struct {
	Index   int          `json:"index"` // 0-based position among the record's photos
	Name    string       `json:"name,omitempty"`
	Status  ImportStatus `json:"status"` // created, unchanged or refused
	PhotoID string       `json:"photo_id,omitempty"`
	Faces   int          `json:"faces,omitempty"`
	Error   *Error       `json:"error,omitempty"`
}

// ImportSummary counts a batch's results.
type ImportSummary struct {
	Created        int `json:"created"`
	Unchanged      int `json:"unchanged"`
	Updated        int `json:"updated"`
	Refused        int `json:"refused"`
	PhotosCreated  int `json:"photos_created"`
	PhotosExisting int `json:"photos_unchanged"`
	PhotosRefused  int `json:"photos_refused"`
}

// Summarize counts results.
func Summarize(results []ImportResult) ImportSummary {
	var s ImportSummary
	for _, r := range results {
		switch r.Status {
		case ImportCreated:
			s.Created++
		case ImportUnchanged:
			s.Unchanged++
		case ImportUpdated:
			s.Updated++
		case ImportRefused:
			s.Refused++
		}
		for _, p := range r.Photos {
			switch p.Status {
			case ImportCreated:
				s.PhotosCreated++
			case ImportUnchanged:
				s.PhotosExisting++
			case ImportRefused:
				s.PhotosRefused++
			}
		}
	}
	return s
}

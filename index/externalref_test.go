package index

import (
	"context"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestExternalRefInCharacters: the store applies the model's rule for
// external_ref (models.ValidateExternalRef), so 200 Devanagari characters
// (600 bytes) are kept and found again, and 201, or a reference with a
// zero-width space, are refused as they are by the API.
func TestExternalRefInCharacters(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ref := strings.Repeat("क", models.MaxExternalRef)
	c := testChild(models.KindFound, "पूजा", ref)
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatalf("200 Devanagari characters (%d bytes): %v", len(ref), err)
	}
	got, err := s.ChildByExternalRef(ctx, models.KindFound, ref)
	if err != nil || got.ID != c.ID || got.ExternalRef != ref {
		t.Fatalf("ChildByExternalRef = %s %q, %v; want %s", got.ID, got.ExternalRef, err, c.ID)
	}
	for name, bad := range map[string]string{"201 characters": ref + "क", "zero-width space": "CCI-88\u200b"} {
		b := testChild(models.KindFound, "Asha", bad)
		err := s.PutChild(ctx, b)
		if f := models.ErrorFields(err); models.ErrorCode(err) != models.EINVALID || len(f) != 1 || f[0].Field != "external_ref" {
			t.Errorf("%s: PutChild = %v; want EINVALID on external_ref", name, err)
		}
		if _, err := s.GetChild(ctx, b.ID); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("%s: the refused record was stored: %v", name, err)
		}
	}
}

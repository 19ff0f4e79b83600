package index

import (
	"slices"
	"testing"
)

// The gate keeps a query's rarest name terms until they reach enough
// documents, and leaves the common rest out; without counts it keeps all.
func TestNameGatePrunesCommonTerms(t *testing.T) {
	df := map[string]uint64{
		attrPrefixName + "p/pooja": 900, attrPrefixName + "p/kumari": 200_000, attrPrefixName + "p/yadav": 3000,
		attrPrefixPhonetic + "p/PJ": 1200, attrPrefixPhonetic + "p/KMR": 260_000, attrPrefixPhonetic + "p/YTF": 3500,
	}
	lookup := func(field, term string) uint64 { return df[field+"/"+term] }
	tokens, keys := []string{"pooja", "kumari", "yadav"}, []string{"PJ", "KMR", "YTF"}
	for _, c := range []struct {
		enough     int
		tokens     []string
		keys       []string
		docFreqNil bool
	}{
		{enough: 5000, tokens: []string{"pooja", "yadav"}, keys: []string{"PJ"}},
		{enough: 1000, tokens: []string{"pooja"}, keys: []string{"PJ"}},
		{enough: 500, tokens: []string{"pooja"}, keys: nil},
		{enough: 1_000_000, tokens: tokens, keys: keys},
		{enough: 10, tokens: tokens, keys: keys, docFreqNil: true},
	} {
		ng := nameGate{docFreq: lookup, enough: c.enough}
		if c.docFreqNil {
			ng.docFreq = nil
		}
		gt, gk := ng.prune("p", tokens, keys)
		if !slices.Equal(gt, c.tokens) || !slices.Equal(gk, c.keys) {
			t.Errorf("enough %d: kept %v %v, want %v %v", c.enough, gt, gk, c.tokens, c.keys)
		}
	}
	// A lone term is always kept, however common.
	if gt, _ := (nameGate{docFreq: lookup, enough: 1}).prune("p", []string{"kumari"}, nil); !slices.Equal(gt, []string{"kumari"}) {
		t.Errorf("a lone common term: kept %v", gt)
	}
}

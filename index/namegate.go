package index

import (
	"context"
	"slices"
)

// Common names cost retrieval the most and tell it the least: at a
// million records "kumari" or "devi" is on a sixth of the girls, and a
// query gated on it scores every one of them, while the records that also
// share its rarer names score far higher and fill the page anyway. So the
// name gate takes a query's name terms in a partition rarest first and
// stops once they reach enough documents to fill the page many times over
// (nameGate.enough); the common rest is left out of the gate. A record
// that shares only such a common name was never going to reach the page
// among thousands that share it too. Explanations still use every term.

// pruneTargetPerHit is how many documents per requested hit the kept name
// terms must reach before the rest are left out.
const pruneTargetPerHit = 64

// nameGate decides which name terms gate a query in each partition.
type nameGate struct {
	// docFreq is the number of documents with term in field; nil keeps
	// every term.
	docFreq func(field, term string) uint64
	// enough is the document count at which the gate stops taking terms.
	enough int
}

// prune returns the folded tokens and phonetic keys that gate partition
// part: rarest first until they reach ng.enough documents, at least one.
// Order within each list is kept.
func (ng nameGate) prune(part string, tokens, keys []string) (keptTokens, keptKeys []string) {
	if ng.docFreq == nil || len(tokens)+len(keys) <= 1 {
		return tokens, keys
	}
	type term struct {
		phonetic bool
		i        int
		df       uint64
	}
	terms := make([]term, 0, len(tokens)+len(keys))
	for i, t := range tokens {
		terms = append(terms, term{false, i, ng.docFreq(attrPrefixName+part, t)})
	}
	for i, k := range keys {
		terms = append(terms, term{true, i, ng.docFreq(attrPrefixPhonetic+part, k)})
	}
	slices.SortStableFunc(terms, func(a, b term) int {
		switch {
		case a.df < b.df:
			return -1
		case a.df > b.df:
			return 1
		}
		return 0
	})
	keepT, keepK := make([]bool, len(tokens)), make([]bool, len(keys))
	var reached uint64
	for n, t := range terms {
		if n > 0 && reached >= uint64(ng.enough) {
			break
		}
		reached += t.df
		if t.phonetic {
			keepK[t.i] = true
		} else {
			keepT[t.i] = true
		}
	}
	for i, t := range tokens {
		if keepT[i] {
			keptTokens = append(keptTokens, t)
		}
	}
	for i, k := range keys {
		if keepK[i] {
			keptKeys = append(keptKeys, k)
		}
	}
	return keptTokens, keptKeys
}

// docFreqs returns a document-frequency lookup on a snapshot of the index
// and the function that releases the snapshot. Call it holding x.mu. A
// failure to read the snapshot gives a nil lookup: no pruning.
func (x *AttributeIndex) docFreqs(ctx context.Context) (func(field, term string) uint64, func()) {
	adv, err := x.idx.Advanced()
	if err != nil {
		return nil, func() {}
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, func() {}
	}
	df := func(field, term string) uint64 {
		tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
		if err != nil {
			return 0
		}
		defer tfr.Close()
		return tfr.Count()
	}
	return df, func() { _ = r.Close() }
}

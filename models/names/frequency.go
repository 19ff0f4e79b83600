package names

import "sync"

// Frequencies counts how often each name token's phonetic key occurs among
// the names of the records added, so that agreement on a rare name
// ("Priyamvada") can weigh more than agreement on a common one ("Pooja"):
// Splink's term-frequency adjustment. Spelling variants count together
// (Pooja and Puja are one key). Single letters are not counted.
//
// The zero value is ready to use; it is safe for concurrent use.
type Frequencies struct {
	mu     sync.RWMutex
	counts map[string]int
	total  int
}

// Frequency smoothing. Before any record is counted a token is assumed to
// have frequencyPrior, the share of a fairly common Indian given name; the
// prior weighs as much as frequencyWeight counted tokens, so a few records
// do not make a name look unique. No frequency is below FrequencyFloor.
const (
	frequencyPrior  = 1e-4
	frequencyWeight = 50
	// FrequencyFloor is the least frequency Of reports, for tokens never
	// seen among many records.
	FrequencyFloor = 1e-7
)

// NewFrequencies returns an empty counter.
func NewFrequencies() *Frequencies { return &Frequencies{} }

// Add counts the tokens of names (one record's names and aliases).
func (f *Frequencies) Add(names []string) {
	f.update(names, 1)
}

// Remove uncounts the tokens of names, as added earlier by Add (a record
// deleted or edited). Counts never go below zero.
func (f *Frequencies) Remove(names []string) {
	f.update(names, -1)
}

func (f *Frequencies) update(names []string, delta int) {
	var keyBuf [16]string
	keys := keyBuf[:0]
	for _, n := range names {
		for _, t := range Tokens(n) {
			if len(t) > 1 {
				keys = append(keys, lists.key(t))
			}
		}
	}
	if len(keys) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = make(map[string]int)
	}
	for _, k := range keys {
		c := f.counts[k]
		switch {
		case delta > 0:
			f.counts[k] = c + 1
			f.total++
		case c > 1:
			f.counts[k] = c - 1
			f.total--
		case c == 1:
			delete(f.counts, k)
			f.total--
		}
	}
}

// Total is the number of tokens counted.
func (f *Frequencies) Total() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.total
}

// Of returns the relative frequency of the token's phonetic key among all
// counted name tokens, smoothed towards a prior and never below
// FrequencyFloor: (count + 50·1e-4) / (total + 50). The token may be
// written in any script.
func (f *Frequencies) Of(token string) float64 {
	k := Key(token)
	f.mu.RLock()
	c, total := f.counts[k], f.total
	f.mu.RUnlock()
	return max(FrequencyFloor, (float64(c)+frequencyWeight*frequencyPrior)/(float64(total)+frequencyWeight))
}

// OfComparison returns how common the agreement c found is: the product,
// over the whole words that matched, of the commoner side's frequency (the
// chance that two unrelated records agree on all of them, taking the words
// as independent). It is 0 when no whole word matched, which the scorer
// reads as unknown.
func (f *Frequencies) OfComparison(c Comparison) float64 {
	p, any := 1.0, false
	for _, m := range c.Matched {
		if m.Level == LevelInitial || len(Fold(m.A)) < 2 {
			continue
		}
		p *= max(f.Of(m.A), f.Of(m.B))
		any = true
	}
	if !any {
		return 0
	}
	return p
}

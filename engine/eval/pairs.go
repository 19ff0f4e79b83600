package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Pair is one labelled pair of written names: Same when A and B are one
// person's names.
type Pair struct {
	A, B string
	Same bool
}

// ReadPairs reads a CSV of pairs with the header a,b,same (further columns
// are ignored); same is 1/0 or true/false.
func ReadPairs(r io.Reader) ([]Pair, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read pairs header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ia, okA := col["a"]
	ib, okB := col["b"]
	is, okS := col["same"]
	if !okA || !okB || !okS {
		return nil, fmt.Errorf("pairs: want a header with columns a, b and same, got %q", head)
	}
	var out []Pair
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read pairs line %d: %w", line, err)
		}
		if len(rec) <= max(ia, ib, is) {
			return nil, fmt.Errorf("pairs line %d: %d columns, want at least %d", line, len(rec), max(ia, ib, is)+1)
		}
		var same bool
		switch strings.ToLower(strings.TrimSpace(rec[is])) {
		case "1", "true", "yes":
			same = true
		case "0", "false", "no":
		default:
			return nil, fmt.Errorf("pairs line %d: same must be 1 or 0, got %q", line, rec[is])
		}
		out = append(out, Pair{A: rec[ia], B: rec[ib], Same: same})
	}
	return out, nil
}

// WritePairs writes pairs as ReadPairs reads them.
func WritePairs(w io.Writer, ps []Pair) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"a", "b", "same"}); err != nil {
		return fmt.Errorf("write pairs: %w", err)
	}
	for _, p := range ps {
		s := "0"
		if p.Same {
			s = "1"
		}
		if err := cw.Write([]string{p.A, p.B, s}); err != nil {
			return fmt.Errorf("write pairs: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write pairs: %w", err)
	}
	return nil
}

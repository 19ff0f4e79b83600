package benchmarks

import (
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// naiveScan is what retrieval does without an index: compare the query with
// every record of the other kind and keep those whose names agree and whose
// sex and age do not conflict.
func naiveScan(q *models.Child, recs []*models.Child, limit int) []string {
	type cand struct {
		id    string
		level int
	}
	rank := map[names.Level]int{names.LevelExact: 5, names.LevelFolded: 4, names.LevelPhonetic: 3, names.LevelFuzzy: 2}
	qt, _ := q.ObservedOn.Time()
	var out []cand
	for _, r := range recs {
		if r.Kind == q.Kind || (q.Sex != models.SexUnknown && r.Sex != models.SexUnknown && q.Sex != r.Sex) {
			continue
		}
		if ra, ok := r.AgeOn(qt); ok && q.Age != nil && (ra.Max+2 < q.Age.Min || ra.Min-2 > q.Age.Max) {
			continue
		}
		if l := rank[names.Compare(q.Names, r.Names).Level]; l > 0 {
			out = append(out, cand{r.ID, l})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].level > out[j].level })
	ids := make([]string, 0, min(limit, len(out)))
	for i := 0; i < len(out) && i < limit; i++ {
		ids = append(ids, out[i].id)
	}
	return ids
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s)-1) + 0.5)
	return s[i]
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dirMB is the size of the files under dir, in MB.
func dirMB(dir string) float64 {
	var total int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return nil
	})
	return float64(total) / 1e6
}

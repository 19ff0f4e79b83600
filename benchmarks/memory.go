package benchmarks

import (
	"context"
	"fmt"
	"runtime"

	"github.com/trackmatch/trackmatch/models"
)

// MeasureHeap closes g and opens it again as the server does at start
// (the in-memory indexes loaded from the store), and returns the live Go
// heap the open gallery holds per record, after a collection, against
// the descriptors alone (models.DescriptorSize float32s per photo). It
// isolates what the process keeps per record from what RSS adds: Go's
// collector headroom, the allocator's free pages, mapped files.
func MeasureHeap(ctx context.Context, g *Gallery) (Figure, error) {
	if err := g.Close(); err != nil {
		return Figure{}, err
	}
	before := liveHeap()
	if _, err := g.Reopen(ctx); err != nil {
		return Figure{}, err
	}
	after := liveHeap()
	records := g.Config.Found + g.Config.Missing
	perRecord := float64(after-before) / float64(records)
	descriptors := float64(4*models.DescriptorSize*g.Photos) / float64(records)
	return Figure{Section: "memory", Scale: g.Config.Found, Name: "live Go heap per record, gallery open (in process)",
		Value: perRecord, Unit: "B/record", Baseline: "the descriptors alone", BaselineValue: descriptors,
		Note: fmt.Sprintf("%.0f B/record beyond the descriptors", perRecord-descriptors)}, nil
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

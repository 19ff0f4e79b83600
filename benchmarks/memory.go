package benchmarks

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/trackmatch/trackmatch/models"
)

// MeasureHeap closes g and opens it again as the server does at start
// (the in-memory indexes loaded from the store), and compares the live Go
// heap it then holds with that of an empty gallery opened the same way:
// the difference per record, less the descriptors themselves
// (models.DescriptorSize float32s per photo), is what each record costs
// in memory. It isolates what the process keeps from what RSS adds: the
// collector's headroom, the allocator's free pages, mapped files.
func MeasureHeap(ctx context.Context, g *Gallery) ([]Figure, error) {
	emptyDir, err := os.MkdirTemp("", "trackmatch-empty-gallery-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(emptyDir)
	if err := g.Close(); err != nil {
		return nil, err
	}
	empty := &Gallery{Config: GalleryConfig{Dir: emptyDir, Logger: g.Config.Logger}}
	base := liveHeap()
	if err := empty.open(ctx, true); err != nil {
		return nil, err
	}
	emptyHeap := float64(liveHeap()) - float64(base)
	if err := empty.Close(); err != nil {
		return nil, err
	}
	base = liveHeap()
	if _, err := g.Reopen(ctx); err != nil {
		return nil, err
	}
	fullHeap := float64(liveHeap()) - float64(base)
	records := g.Config.Found + g.Config.Missing
	descriptors := float64(4*models.DescriptorSize*g.Photos) / float64(records)
	perRecord := (fullHeap-emptyHeap)/float64(records) - descriptors
	const mib = 1 << 20
	return []Figure{
		{Section: "memory", Scale: g.Config.Found, Name: "live Go heap, gallery open (in process)",
			Value: fullHeap / mib, Unit: "MiB", Baseline: "empty gallery", BaselineValue: emptyHeap / mib},
		{Section: "memory", Scale: g.Config.Found, Name: "live Go heap per record beyond descriptors",
			Value: perRecord, Unit: "B/record", Baseline: "goal 2048 B/record", BaselineValue: 2048,
			Note: goal(perRecord < 2048, "under 2 KB/record") + fmt.Sprintf("; descriptors %.0f B/record", descriptors)},
	}, nil
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

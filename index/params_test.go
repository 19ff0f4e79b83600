package index

import (
	"context"
	"sync"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestParamsVersions(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	_, err := s.LatestParams(ctx)
	wantCode(t, err, models.ENOTFOUND)
	for i, src := range []string{"defaults", "em", "decisions"} {
		p, err := s.PutParams(ctx, models.Params{Version: 42, Source: src, Prior: float64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != i+1 || p.CreatedAt.IsZero() {
			t.Fatalf("PutParams #%d returned version %d, created %v", i+1, p.Version, p.CreatedAt)
		}
	}
	latest, err := s.LatestParams(ctx)
	if err != nil || latest.Version != 3 || latest.Source != "decisions" {
		t.Fatalf("LatestParams = %+v, %v", latest, err)
	}
	first, err := s.GetParams(ctx, 1)
	if err != nil || first.Source != "defaults" || first.Prior != 1 {
		t.Fatalf("GetParams(1) = %+v, %v; the first version must be kept", first, err)
	}
	for _, v := range []int{0, 4, -1} {
		_, err := s.GetParams(ctx, v)
		wantCode(t, err, models.ENOTFOUND)
	}
}

func TestConcurrentPutParamsGetDistinctVersions(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	var wg sync.WaitGroup
	versions := make([]int, 6)
	for i := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.PutParams(ctx, models.Params{Source: "em"})
			if err != nil {
				t.Error(err)
			}
			versions[i] = p.Version
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, v := range versions {
		if seen[v] {
			t.Fatalf("version %d handed out twice: %v", v, versions)
		}
		seen[v] = true
	}
	if latest, _ := s.LatestParams(ctx); latest.Version != len(versions) {
		t.Fatalf("latest version %d, want %d", latest.Version, len(versions))
	}
}

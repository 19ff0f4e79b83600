package engine

import (
	"context"
	"testing"
	"time"
)

// Yield returns at once with no interactive call in flight, waits for one
// to finish, and gives up after MaxYield under a call that does not.
func TestPriorityYield(t *testing.T) {
	ctx := context.Background()
	p := NewPriority(time.Second)
	start := time.Now()
	p.Yield(ctx)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Yield with nothing in flight took %v", d)
	}
	done := p.Interactive()
	returned := make(chan struct{})
	go func() { p.Yield(ctx); close(returned) }()
	select {
	case <-returned:
		t.Fatal("Yield returned while a call was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	done()
	select {
	case <-returned:
	case <-time.After(time.Second):
		t.Fatal("Yield still waiting after the call finished")
	}

	short := NewPriority(20 * time.Millisecond)
	defer short.Interactive()()
	finished := make(chan struct{})
	go func() { short.Yield(ctx); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("Yield did not give up after MaxYield")
	}
	var none *Priority
	none.Interactive()()
	none.Yield(ctx) // a nil Priority never pauses
	if NewPriority(-1).MaxYield() != 0 || NewPriority(0).MaxYield() != DefaultMaxYield {
		t.Errorf("MaxYield: negative %v, zero %v", NewPriority(-1).MaxYield(), NewPriority(0).MaxYield())
	}
}

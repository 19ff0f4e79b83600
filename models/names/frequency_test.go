package names

import (
	"fmt"
	"sync"
	"testing"
)

func TestFrequenciesRareAndCommon(t *testing.T) {
	f := NewFrequencies()
	for i := 0; i < 200; i++ {
		f.Add([]string{"Pooja Sharma"})
		f.Add([]string{fmt.Sprintf("Child%c%c Kumar", 'a'+i%26, 'a'+i/26)})
	}
	f.Add([]string{"Puja", "पूजा"})
	f.Add([]string{"Priyamvada Iyer"})
	pooja, priyamvada := f.Of("Pooja"), f.Of("Priyamvada")
	if pooja < 20*priyamvada {
		t.Errorf("Of(Pooja) = %g, Of(Priyamvada) = %g: want Pooja far more common", pooja, priyamvada)
	}
	if a, b := f.Of("Puja"), f.Of("पूजा"); a != pooja || b != pooja {
		t.Errorf("spellings of Pooja count apart: Pooja %g, Puja %g, पूजा %g", pooja, a, b)
	}
	if unseen := f.Of("Zorawar"); unseen >= priyamvada || unseen < FrequencyFloor {
		t.Errorf("Of(unseen) = %g, want below a name seen once (%g) and at least the floor", unseen, priyamvada)
	}
	if f.Of("Kumar") >= priyamvada {
		t.Errorf("Kumar is dropped from names, yet counted: %g", f.Of("Kumar"))
	}
	// 200 Pooja Sharma, 200 childXX, Puja, पूजा, Priyamvada Iyer.
	if got := f.Total(); got != 200*2+200+2+2 {
		t.Errorf("Total = %d, want %d", got, 200*2+200+2+2)
	}

	c := Compare([]string{"Pooja Sharma"}, []string{"Puja Sharma"})
	rare := Compare([]string{"Priyamvada Iyer"}, []string{"Priyamvada Iyer"})
	if got, want := f.OfComparison(c), f.Of("Pooja")*f.Of("Sharma"); got != want {
		t.Errorf("OfComparison(Pooja Sharma) = %g, want the product %g", got, want)
	}
	if f.OfComparison(rare) >= f.OfComparison(c) {
		t.Errorf("a rare name's agreement should be rarer than a common one's")
	}
	if got := f.OfComparison(Compare([]string{"Rahul"}, []string{"Sunil"})); got != 0 {
		t.Errorf("OfComparison of no agreement = %g, want 0", got)
	}
}

func TestFrequenciesRemove(t *testing.T) {
	var f Frequencies // the zero value works
	empty := f.Of("Pooja")
	f.Add([]string{"Pooja"})
	f.Add([]string{"Pooja"})
	f.Remove([]string{"Pooja"})
	f.Remove([]string{"Pooja"})
	f.Remove([]string{"Pooja"}) // more than added: no negative counts
	if f.Total() != 0 || f.Of("Pooja") != empty {
		t.Errorf("after removing all: Total %d, Of %g, want 0 and %g", f.Total(), f.Of("Pooja"), empty)
	}
}

func TestFrequenciesConcurrent(t *testing.T) {
	f := NewFrequencies()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				f.Add([]string{"Rahul Sharma"})
				_ = f.Of("Rahul")
				if i%2 == 0 {
					f.Remove([]string{"Rahul Sharma"})
				}
			}
		}()
	}
	wg.Wait()
	if got := f.Total(); got != 4*250*2 {
		t.Errorf("Total = %d, want %d", got, 4*250*2)
	}
}

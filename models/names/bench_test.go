package names

import "testing"

// Benchmarks for the hot paths: Tokens and Key run in the Bleve analyzers
// for every record, Compare in the scorer for every candidate pair.
// Reproduce: go test -run XXX -bench . ./models/names

func BenchmarkCompareLatin(b *testing.B) {
	a := []string{"Mohd. Salim Shaikh", "Salim urf Pappu"}
	c := []string{"Salim Sheikh"}
	b.ReportAllocs()
	for b.Loop() {
		Compare(a, c)
	}
}

func BenchmarkCompareScripts(b *testing.B) {
	a := []string{"राहुल कुमार शर्मा"}
	c := []string{"Rahul Sharma", "রাহুল"}
	b.ReportAllocs()
	for b.Loop() {
		Compare(a, c)
	}
}

func BenchmarkCompareNoMatch(b *testing.B) {
	a := []string{"Priya Verma"}
	c := []string{"Sunil Kumar Yadav"}
	b.ReportAllocs()
	for b.Loop() {
		Compare(a, c)
	}
}

func BenchmarkTokensLatin(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Tokens("Kumari Pooja Sharma")
	}
}

func BenchmarkTokensDevanagari(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Tokens("कुमारी पूजा शर्मा")
	}
}

func BenchmarkKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Key("chowdhury")
	}
}

func BenchmarkFoldFolded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fold("rahul sharma")
	}
}

func BenchmarkFoldBengali(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fold("শ্রাবন্তী সরকার")
	}
}

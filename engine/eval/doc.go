// Package eval measures the engine on labelled data, through the same
// retrieval and scoring path the API uses. It starts with names (names.go):
// pairs of written names, a trackmatch run over a real attribute index on
// disk, and an off-the-shelf baseline (baseline.go) computed in the same
// run. pairs.go reads and writes pair files; realnames.go builds pairs from
// the shared sets of real names with a seeded, documented dev/test split.
package eval

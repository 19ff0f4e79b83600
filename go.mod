module github.com/trackmatch/trackmatch

go 1.26.8

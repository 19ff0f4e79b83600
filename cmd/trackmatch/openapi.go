package main

import (
	"context"
	"fmt"
	"io"

	"github.com/trackmatch/trackmatch/api"
)

// runOpenAPI implements `trackmatch openapi`: it prints the OpenAPI
// document the server serves at /openapi.json (with the default limits),
// for linters and client generators.
func runOpenAPI(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: trackmatch openapi")
		return 2
	}
	doc, err := api.OpenAPIDocument(api.Config{})
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", doc)
	return 0
}

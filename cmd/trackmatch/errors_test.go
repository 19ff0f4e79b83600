package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// exitCode gives each kind of error its status and prints it once.
func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{errors.New("disk full"), 1, "trackmatch cmd: disk full\n"},
		{fmt.Errorf("open: %w", usagef("--out FILE is required")), 2, "trackmatch cmd: open: --out FILE is required\n"},
		{usagef("--out FILE is required"), 2, "trackmatch cmd: --out FILE is required\n"},
		{usageLine("cmd PHOTO..."), 2, "usage: trackmatch cmd PHOTO...\n"},
		{parseError(flag.ErrHelp), 2, ""},
		{exitError{code: 2}, 2, ""},
		{exitStatus(0), 0, ""},
		{exitStatus(3), 3, ""},
	} {
		var b bytes.Buffer
		if got := exitCode("cmd", tt.err, &b); got != tt.code || b.String() != tt.stderr {
			t.Errorf("exitCode(%v) = %d, printed %q; want %d, %q", tt.err, got, b.String(), tt.code, tt.stderr)
		}
	}
	var b bytes.Buffer
	if code := dispatch(t.Context(), []string{"no-such-command"}, &b, &b); code != 2 || !strings.Contains(b.String(), "unknown command") {
		t.Errorf("unknown command: %d, %q", code, b.String())
	}
}

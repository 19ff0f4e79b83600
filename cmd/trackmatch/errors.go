package main

import (
	"errors"
	"fmt"
	"io"
)

// usageError is a command called wrongly (its flags or arguments): exit
// status 2. dispatch prints it, unless the flag package already has.
type usageError struct {
	err     error
	printed bool // the flag package printed it, with the flags
	line    bool // err is a usage line, printed as it is
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef is a usageError with a message.
func usagef(format string, a ...any) error { return usageError{err: fmt.Errorf(format, a...)} }

// badUsage is err (a bad flag value) as a usageError.
func badUsage(err error) error { return usageError{err: err} }

// usageLine is a usageError printing "usage: trackmatch " + synopsis.
func usageLine(synopsis string) error {
	return usageError{err: errors.New("usage: trackmatch " + synopsis), line: true}
}

// parseError is a flag.FlagSet.Parse error, which the flag package has
// printed already.
func parseError(err error) error { return usageError{err: err, printed: true} }

// exitError is a failure whose details the command has reported already
// (on stdout, as JSON lines, or on stderr): only its status is left.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitStatus is the error of a command that printed its own errors and
// returned an exit status: nil for 0, else an exitError.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return exitError{code: code}
}

// exitCode turns what a command returned into its exit status, printing
// the error, once, as "trackmatch NAME: error": 0 for nil, 2 for a
// usageError, an exitError's own status, 1 for any other error.
func exitCode(name string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		switch {
		case ue.printed:
		case ue.line:
			fmt.Fprintln(stderr, ue.err)
		default:
			fmt.Fprintf(stderr, "trackmatch %s: %v\n", name, err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "trackmatch %s: %v\n", name, err)
	return 1
}

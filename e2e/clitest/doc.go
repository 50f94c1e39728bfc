// Package clitest runs the rollback CLI for the end-to-end tests: in-process
// (Run) or as the built binary in its own process (Binary, Start), and waits
// for conditions (WaitFor). Every run is logged with its output.
package clitest

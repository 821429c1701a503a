// Package report implements `reprise report`: it reads a run directory's
// summary.json through harness/results and renders it as the terminal table
// or as GitHub-flavoured Markdown, to stdout or a file. It only renders: a
// run judged invalid still reports with exit status 0.
package report

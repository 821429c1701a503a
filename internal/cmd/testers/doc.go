// Package testers implements `reprise testers`: it runs the synthetic tester
// population of compose/testers against a gateway (normally through
// `reprise record`) and prints what each behaviour profile did. Load only
// goes to loopback or to hosts the user names with --allow-target.
package testers

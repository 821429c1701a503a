// Package demoapp is a small in-process game API (login, market, missions)
// and a seeded synthetic tester population that drives it. `reprise demo`
// and the end-to-end tests record its traffic; it is not the reference
// staging stack, which lives in compose/.
package demoapp

package web_test

import "github.com/herts-msp/taxi-renewals/internal/service"

// Staff passwords are hashed cheaply in these tests (argon2 at today's cost takes about 0.5 s
// under the race detector): set before any test runs.
func init() { service.UseTestPasswordCost() }

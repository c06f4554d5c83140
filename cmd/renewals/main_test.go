package main

import "github.com/herts-msp/taxi-renewals/internal/service"

// The demo's staff accounts (and every other account these tests make in this process) are
// hashed cheaply: set before any test runs. The crash test's server is a binary of its own and
// keeps today's cost.
func init() { service.UseTestPasswordCost() }

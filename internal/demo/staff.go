package demo

import (
	"context"
	"io"

	"github.com/herts-msp/taxi-renewals/internal/service"
)

// SeedStaff adds one officer per council, an analyst and an admin for the demo, and prints
// how to sign in as them.
func SeedStaff(ctx context.Context, svc *service.Service, stdout io.Writer) error {
	return nil
}

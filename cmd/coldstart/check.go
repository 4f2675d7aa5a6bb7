package main

import (
	"context"
	"errors"
)

func runCheck(ctx context.Context, args []string, s Streams) error {
	return errors.New("not built yet")
}

package main

import (
	"context"
	"errors"
)

func runInit(ctx context.Context, args []string, s Streams) error {
	return errors.New("not built yet")
}

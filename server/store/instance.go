package store

import (
	"context"
	"fmt"
)

// InstanceID returns this server's random id, made when the database was
// (see migration 0003). It names what the server leaves on a container
// engine, so a restart on the same database finds what a crash left behind.
func (s *Store) InstanceID(ctx context.Context) (string, error) {
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM server_instance WHERE only_row = 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("read the server's instance id: %w", err)
	}
	return id, nil
}

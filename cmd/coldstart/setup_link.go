package main

import (
	"context"
	"log/slog"
	"net"
	"time"

	"coldstart/server/auth"
	"coldstart/server/store"
)

var zeroTime time.Time

// logSetupLink prints, while the server has no admin, a one-time link that
// creates the first admin. Whoever reads the server's log is its operator;
// the first visitor to reach the server gains nothing.
func (m *Main) logSetupLink(ctx context.Context, st *store.Store, addr string, logger *slog.Logger) error {
	token := auth.NewToken()
	made, err := st.SetupLink(ctx, auth.HashToken(token))
	if err != nil || !made {
		return err
	}
	base := m.PublicURL
	if base == "" {
		host, port, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	logger.Warn("this server has no admin yet: open the setup link to create the first admin (it works once, for 7 days; or run coldstart users add --role admin)",
		slog.String("setup_link", base+"/setup/"+token))
	return nil
}

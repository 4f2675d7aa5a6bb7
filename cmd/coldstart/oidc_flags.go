package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"coldstart/server"
)

// validateOIDC checks the single sign-on flags together.
func (m *Main) validateOIDC() error {
	if m.OIDCIssuer == "" {
		if !m.PasswordLogin {
			return errors.New("--password-login=false needs single sign-on: set --oidc-issuer, --oidc-client-id and COLDSTART_OIDC_CLIENT_SECRET")
		}
		if m.OIDCClientID != "" || m.OIDCClientSecret != "" {
			return errors.New("--oidc-client-id and --oidc-client-secret need --oidc-issuer")
		}
		return nil
	}
	u, err := url.Parse(m.OIDCIssuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--oidc-issuer must be the provider's http(s) address, not %q", m.OIDCIssuer)
	}
	if m.OIDCClientID == "" || m.OIDCClientSecret == "" {
		return errors.New("--oidc-issuer needs --oidc-client-id and a client secret (COLDSTART_OIDC_CLIENT_SECRET)")
	}
	if m.PublicURL == "" {
		return errors.New("--oidc-issuer needs --public-url: the provider sends users back to PUBLIC-URL/auth/oidc/callback, which must be registered there")
	}
	for _, d := range m.OIDCAllowedDomains {
		if strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			return fmt.Errorf("--oidc-allowed-domains: %q is not a domain like example.com", d)
		}
	}
	return nil
}

func (m *Main) oidcConfig() *server.OIDCConfig {
	if m.OIDCIssuer == "" {
		return nil
	}
	return &server.OIDCConfig{Issuer: m.OIDCIssuer, ClientID: m.OIDCClientID, ClientSecret: m.OIDCClientSecret, Name: m.OIDCName,
		AllowedDomains: m.OIDCAllowedDomains, InstructorGroup: m.OIDCInstructorGroup, AdminGroup: m.OIDCAdminGroup}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"coldstart/server/auth"
	"coldstart/server/store"
)

// runUsers manages accounts from the server's machine:
// coldstart users add --db FILE --email E [--role R] [--group G].
func runUsers(ctx context.Context, args []string, s Streams) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(s.Stderr, "Usage: coldstart users add --email E [--role student|instructor|admin] [--group G] [--name N] [--db FILE] [--public-url URL]")
		return errUsage
	}
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	fs.SetOutput(s.Stderr)
	db := fs.String("db", env("COLDSTART_DB", "coldstart.db"), "SQLite database file (COLDSTART_DB)")
	email := fs.String("email", "", "email of the new account (required)")
	name := fs.String("name", "", "name of the new account")
	role := fs.String("role", "student", "student, instructor or admin")
	group := fs.String("group", "", "name of the group to put the account in; created if it does not exist")
	public := fs.String("public-url", env("COLDSTART_PUBLIC_URL", "http://127.0.0.1:8080"), "address users reach the server at, for the link (COLDSTART_PUBLIC_URL)")
	fs.Usage = func() {
		fmt.Fprintln(s.Stderr, "Usage: coldstart users add --email E [--role R] [--group G] [--db FILE]\n\n"+
			"Creates an account and prints its invitation link (one use, valid 7 days) as the last line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.Stderr, "users add takes no arguments, got %q\n", fs.Args())
		return errUsage
	}
	addr, err := auth.NormalizeEmail(*email)
	if err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	r := store.Role(*role)
	if !r.Valid() {
		return fmt.Errorf("--role must be student, instructor or admin, not %q", *role)
	}
	base, err := publicURL(*public)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	a := store.NewAccount{Email: strings.ToLower(addr), Name: *name, Role: r}
	if *group != "" {
		g, err := st.GroupByName(ctx, *group)
		if errors.Is(err, store.ErrNotFound) {
			if g, err = st.CreateGroup(ctx, store.Actor{}, *group, auth.NewToken()[:22], zeroTime); err == nil {
				fmt.Fprintf(s.Stdout, "group %s created; its join link: %s/join/%s\n", g.Name, base, g.JoinToken)
			}
		}
		if err != nil {
			return fmt.Errorf("--group %s: %w", *group, err)
		}
		a.GroupID = g.ID
	}
	token := auth.NewToken()
	u, err := st.Invite(ctx, store.Actor{}, a, auth.HashToken(token))
	if errors.Is(err, store.ErrEmailTaken) {
		return fmt.Errorf("an account with the email %s already exists; an admin can make it a reset link on /admin/users", a.Email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Stdout, "account %s created (%s); its invitation works once and for 7 days:\n", u.Email, u.Role)
	fmt.Fprintf(s.Stdout, "%s/invite/%s\n", base, token)
	return nil
}

// publicURL checks the address users reach the server at.
func publicURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--public-url must be an http or https address like https://course.example.com, not %q", raw)
	}
	return u.String(), nil
}

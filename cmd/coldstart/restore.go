package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"coldstart/server/store"
)

// runRestore puts a backup in place of the database:
// coldstart restore [--db FILE] IN. It refuses while a server holds FILE.
func runRestore(ctx context.Context, args []string, s Streams) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(s.Stderr)
	db := fs.String("db", env("COLDSTART_DB", "coldstart.db"), "SQLite database file to replace (COLDSTART_DB)")
	fs.Usage = func() {
		fmt.Fprintln(s.Stderr, "Usage: coldstart restore [--db FILE] IN\n\nReplaces the database with the backup IN. Stop the server first.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(s.Stderr, "restore needs exactly one argument: the backup file to restore")
		return errUsage
	}
	rep, err := store.Restore(ctx, *db, fs.Arg(0))
	if err != nil {
		return err
	}
	if rep.Previous != "" {
		fmt.Fprintf(s.Stdout, "the database it replaced is saved as %s\n", rep.Previous)
	}
	fmt.Fprintf(s.Stdout, "restored %s from %s: %s, schema version %d, integrity ok\n",
		*db, fs.Arg(0), humanBytes(rep.Restored.Bytes), store.SchemaVersion(rep.Restored.Schema))
	printTables(s.Stdout, rep.Restored.Tables)
	return nil
}

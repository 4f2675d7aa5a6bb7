package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"coldstart/server/store"
)

// runBackup copies the database while the server may be running:
// coldstart backup [--db FILE] OUT.
func runBackup(ctx context.Context, args []string, s Streams) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(s.Stderr)
	db := fs.String("db", env("COLDSTART_DB", "coldstart.db"), "SQLite database file to copy (COLDSTART_DB)")
	fs.Usage = func() {
		fmt.Fprintln(s.Stderr, "Usage: coldstart backup [--db FILE] OUT\n\nCopies the database, even while the server runs, and checks the copy.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(s.Stderr, "backup needs exactly one argument: the file to write the copy to")
		return errUsage
	}
	rep, err := store.Backup(ctx, *db, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Stdout, "backup %s: %s in %s, schema version %d, integrity ok\n",
		rep.Path, humanBytes(rep.Bytes), rep.Took.Round(1e6), store.SchemaVersion(rep.Schema))
	printTables(s.Stdout, rep.Tables)
	return nil
}

func printTables(w io.Writer, tables []store.TableCount) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows\t")
	for _, t := range tables {
		fmt.Fprintf(tw, "%s\t%d\t\n", t.Name, t.Rows)
	}
	tw.Flush()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

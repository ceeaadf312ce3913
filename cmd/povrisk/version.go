package main

import (
	"database/sql"
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
)

// Version is the povrisk release; set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func init() {
	register(&cli.Command{
		Name:  "version",
		Usage: "print the povrisk, Go and DuckDB versions",
		Flags: []cli.Flag{jsonFlag("the versions")},
		Action: func(c *cli.Context) error {
			db, err := engine.OpenDB("")
			if err != nil {
				return err
			}
			defer db.Close()
			v, err := duckdbVersion(db)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, map[string]string{"povrisk": Version, "go": runtime.Version(),
					"platform": runtime.GOOS + "/" + runtime.GOARCH, "duckdb": v})
			}
			fmt.Fprintf(c.App.Writer, "povrisk %s\ngo %s %s/%s\nduckdb %s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, v)
			return nil
		},
	})
}

func duckdbVersion(db *sql.DB) (string, error) {
	var v string
	if err := db.QueryRow("SELECT version()").Scan(&v); err != nil {
		return "", fmt.Errorf("query duckdb version: %w", err)
	}
	return v, nil
}

package main

import "github.com/urfave/cli/v2"

func init() {
	register(&cli.Command{
		Name:      "validate",
		Usage:     "check a drop against the data standard; write nothing but the report",
		UsageText: "povrisk validate --drop DIR [--warehouse DIR] [--encoding E] [--report FILE] [--json]",
		Description: "Rejected rows go to stdout as CSV (table,file,line,column,reason,original), or to --report FILE;\n" +
			"per-table counts go to stderr. With --warehouse, references are checked against its current version too.\n" +
			"No personal data is printed: ID numbers show as [ID number] (validate reads no key), names, phones and\n" +
			"accounts as ***, long digit runs as [number]; columns found to hold ID numbers are named with their counts.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "drop", Usage: "drop directory (one file per table)", Required: true},
			&cli.StringFlag{Name: "warehouse", Usage: "warehouse whose current version completes references (optional)"},
			&cli.StringFlag{Name: "encoding", Usage: "CSV encoding: utf-8 or gb18030 (default: detected per file)"},
			&cli.StringFlag{Name: "report", Usage: "write the rejected rows to this CSV file instead of stdout"},
			jsonFlag("the report (rejected rows then only with --report)"),
		},
		Action: func(c *cli.Context) error {
			return runIngest(c.Context, ingestOptions{
				Drop: c.String("drop"), Warehouse: c.String("warehouse"), Encoding: c.String("encoding"),
				Report: c.String("report"), JSON: c.Bool("json"), Validate: true, Reporter: reporter(c),
			}, c.App.Writer, infoWriter(c))
		},
	})
}

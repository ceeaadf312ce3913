package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/models/registry"
)

func init() {
	dirFlag := &cli.StringFlag{Name: "models", Usage: "models directory", Required: true}
	register(&cli.Command{
		Name:  "models",
		Usage: "list the saved models or show a model card",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the saved models, oldest first",
				UsageText: "povrisk models list --models DIR [--json]",
				Flags:     []cli.Flag{dirFlag, &cli.BoolFlag{Name: "json", Usage: "print the cards as JSON"}},
				Action: func(c *cli.Context) error {
					return runModelsList(c.String("models"), c.Bool("json"), c.App.Writer)
				},
			},
			{
				Name:      "show",
				Usage:     "print a model card (markdown)",
				ArgsUsage: "ID|latest",
				UsageText: "povrisk models show ID|latest --models DIR [--json]",
				Flags: []cli.Flag{&cli.StringFlag{Name: "models", Usage: "models directory"},
					&cli.BoolFlag{Name: "json", Usage: "print card.json instead"}},
				Action: func(c *cli.Context) error {
					// Flags may also follow the id (models show ID --models DIR),
					// which the flag parser leaves among the arguments.
					dir, asJSON, id := c.String("models"), c.Bool("json"), ""
					args := c.Args().Slice()
					for i := 0; i < len(args); i++ {
						switch a := args[i]; {
						case a == "--models" || a == "-models":
							if i+1 == len(args) {
								return withCode(ExitUsage, errors.New("--models needs a directory"))
							}
							dir = args[i+1]
							i++
						case strings.HasPrefix(a, "--models="):
							dir = strings.TrimPrefix(a, "--models=")
						case a == "--json" || a == "-json":
							asJSON = true
						case id == "":
							id = a
						default:
							return withCode(ExitUsage, fmt.Errorf("models show: unexpected argument %q", a))
						}
					}
					if id == "" || dir == "" {
						return withCode(ExitUsage, errors.New("usage: povrisk models show ID|latest --models DIR"))
					}
					return runModelsShow(dir, id, asJSON, c.App.Writer)
				},
			},
		},
	})
}

func runModelsList(dir string, asJSON bool, stdout io.Writer) error {
	cards, err := registry.List(dir)
	if err != nil {
		return err
	}
	if asJSON {
		if cards == nil {
			cards = []registry.Card{}
		}
		return writeJSON(stdout, cards)
	}
	if len(cards) == 0 {
		return withCode(ExitNoModel, fmt.Errorf("%s: %w: train one with povrisk train", dir, registry.ErrNoModel))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAS-OF\tHORIZON\tROWS\tAUC\tRULES AUC\tP@5%\tRULES P@5%\tCATALOG\tKIND")
	for _, c := range cards {
		kind := c.Kind
		if kind == "" {
			kind = registry.KindIdentification
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.AsOf, c.HorizonMonths, c.TrainRows,
			metric(c.Metrics, c.Metrics.AUC), metric(c.Metrics, c.Metrics.RulesAUC), share3(c.Metrics.PrecisionAt, 0.05), share3(c.Metrics.RulesPrecisionAt, 0.05), cardShort(c.CatalogHash), kind)
	}
	return tw.Flush()
}

// metric is v rounded to 3 places, or "-" for a card without metrics.
func metric(m registry.Metrics, v float64) string {
	if m.IsZero() {
		return "-"
	}
	return score(v)
}

func cardShort(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func runModelsShow(dir, id string, asJSON bool, stdout io.Writer) error {
	var card registry.Card
	var err error
	if id == "latest" {
		card, err = registry.Latest(dir)
	} else {
		card, err = registry.ReadCard(dir, id)
	}
	if err != nil {
		if errors.Is(err, registry.ErrNoModel) {
			return withCode(ExitNoModel, err)
		}
		return err
	}
	name := "card.md"
	if asJSON {
		name = "card.json"
	}
	b, err := os.ReadFile(filepath.Join(dir, card.ID, name))
	if err != nil {
		return fmt.Errorf("read %s of %s: %w", name, card.ID, err)
	}
	_, err = stdout.Write(b)
	return err
}

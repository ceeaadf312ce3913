package run

import (
	"context"
	"os"
	"testing"

	"github.com/povrisk/povrisk/engine"
)

func TestScratchProfile(t *testing.T) {
	wh := os.Getenv("PROF_WH")
	if wh == "" {
		t.Skip()
	}
	db, _ := engine.OpenDB("")
	defer db.Close()
	res, err := Run(context.Background(), db, Options{Warehouse: wh, Models: os.Getenv("PROF_MODELS"), Runs: t.TempDir(), PolicyPath: policyPath(), Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Stages)
}

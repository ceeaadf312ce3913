// Package registry stores trained models with their model cards in a
// models directory, one sub-directory per model, and finds them again.
//
// Layout of MODELS/<id>/ (id "rf-<as-of>-<first 8 hex of sha256(forest.bin)>",
// so a rerun on the same data and seed gives the same id and files):
//
//	forest.bin      the forest (forest.WriteTo)
//	profiles.json   the k-means risk profiles (optional)
//	card.json       the model card (Card), keys sorted, indented
//	card.md         the same card for people
//
// A model is written under MODELS/.tmp-<id> and renamed into place, so a
// crash never leaves a half-written model that List would return. Every
// field of a card is a function of the inputs, options and seed, except
// TrainSeconds (a duration, never a wall-clock time). The card covers
// forest.bin and profiles.json by their SHA-256; Load refuses a file that
// does not match (fault.NoModel).
//
// The order in which models were saved, which Latest follows, is history
// rather than content: it lives in MODELS/index.jsonl (one {"seq","id"}
// line per model, seq increasing with every Save), not in the model
// directories, whose bytes stay a function of the training alone.
package registry

package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/kmeans"
)

// ErrNoModel is returned (wrapped) when a models directory holds no model
// or not the one asked for.
var ErrNoModel = errors.New("no model")

// FeatureImportance is a feature and its mean decrease in impurity.
type FeatureImportance struct {
	Feature    string  `json:"feature"`
	Importance float64 `json:"importance"`
}

// ProfileSummary describes one k-means profile saved with the model.
type ProfileSummary struct {
	Cluster int            `json:"cluster"`
	Size    int            `json:"size"`
	Traits  []kmeans.Trait `json:"traits"`
}

// Card is a model card: what a model was trained on, how, and how well it
// did in temporal validation.
type Card struct {
	ID        string `json:"id"`         // set by Save
	CreatedBy string `json:"created_by"` // "povrisk <version>"
	// AsOf is the model's as-of date (YYYY-MM-DD): the latest training
	// snapshot; AsOfDates are all training snapshots, oldest first.
	AsOf          string         `json:"as_of"`
	AsOfDates     []string       `json:"as_of_dates"`
	DataFrom      string         `json:"data_from,omitempty"` // first month with data in the warehouse
	DataTo        string         `json:"data_to,omitempty"`   // last day with data in the warehouse
	HorizonMonths int            `json:"horizon_months"`
	Features      []string       `json:"features"`
	CatalogHash   string         `json:"catalog_hash"`
	PolicySHA256  string         `json:"policy_sha256,omitempty"`
	Drops         []string       `json:"drops,omitempty"` // warehouse drops the data came from
	Params        forest.Options `json:"params"`
	Seed          uint64         `json:"seed"`
	TrainRows     int            `json:"train_rows"`
	TrainPositive int            `json:"train_positive"`
	OOBAUC        float64        `json:"oob_auc,omitempty"`
	// Metrics are the temporal validation figures (see engine/train):
	// auc, pr_auc, brier, precision_at, rules_precision_at, oracle_auc, ...
	Metrics      map[string]any      `json:"metrics,omitempty"`
	TopFeatures  []FeatureImportance `json:"top_features"`
	Profiles     []ProfileSummary    `json:"profiles,omitempty"`
	TrainSeconds float64             `json:"train_seconds"`
	ModelSHA256  string              `json:"model_sha256"` // of forest.bin; set by Save
	Notes        []string            `json:"notes,omitempty"`
}

const (
	forestFile   = "forest.bin"
	profilesFile = "profiles.json"
	cardFile     = "card.json"
	cardMDFile   = "card.md"
)

// TopImportances returns the n most important features of f, by importance
// descending (ties by feature order).
func TopImportances(f *forest.Forest, n int) []FeatureImportance {
	names, imp := f.FeatureNames(), f.Importances()
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return imp[idx[a]] > imp[idx[b]] })
	if n <= 0 || n > len(idx) {
		n = len(idx)
	}
	out := make([]FeatureImportance, n)
	for k := range out {
		out[k] = FeatureImportance{Feature: names[idx[k]], Importance: imp[idx[k]]}
	}
	return out
}

// Save writes f, the optional profiles and card under dir/<id> and returns
// the id. card.ID and card.ModelSHA256 are filled in; card.Features is
// taken from the forest when empty and must otherwise equal its features.
// Saving a model whose id exists replaces it (same forest bytes).
func Save(dir string, f *forest.Forest, profiles *kmeans.Model, card Card) (string, error) {
	if f == nil {
		return "", errors.New("registry: save: no forest")
	}
	if card.AsOf == "" {
		return "", errors.New("registry: save: card has no as-of date")
	}
	feats := f.FeatureNames()
	if len(card.Features) == 0 {
		card.Features = feats
	} else if strings.Join(card.Features, "\x00") != strings.Join(feats, "\x00") {
		return "", fmt.Errorf("registry: save: card lists %d features, the forest %d (or in another order)", len(card.Features), len(feats))
	}
	var fb bytes.Buffer
	if _, err := f.WriteTo(&fb); err != nil {
		return "", fmt.Errorf("registry: encode forest: %w", err)
	}
	sum := sha256.Sum256(fb.Bytes())
	card.ModelSHA256 = hex.EncodeToString(sum[:])
	card.ID = "rf-" + card.AsOf + "-" + card.ModelSHA256[:8]
	if err := checkID(card.ID); err != nil {
		return "", fmt.Errorf("registry: save: as-of %q makes a bad model id: %w", card.AsOf, err)
	}

	files := map[string][]byte{forestFile: fb.Bytes()}
	if profiles != nil {
		var pb bytes.Buffer
		if _, err := profiles.WriteTo(&pb); err != nil {
			return "", fmt.Errorf("registry: encode profiles: %w", err)
		}
		files[profilesFile] = pb.Bytes()
	}
	cj, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return "", fmt.Errorf("registry: encode card (a metric may be NaN or Inf): %w", err)
	}
	files[cardFile] = append(cj, '\n')
	files[cardMDFile] = []byte(Markdown(card))

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("registry: create models directory: %w", err)
	}
	tmp := filepath.Join(dir, ".tmp-"+card.ID)
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("registry: clear %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("registry: create %s: %w", tmp, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := writeSync(filepath.Join(tmp, n), files[n]); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("registry: write %s: %w", n, err)
		}
	}
	final := filepath.Join(dir, card.ID)
	if err := os.RemoveAll(final); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("registry: replace %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("registry: move model into place: %w", err)
	}
	return card.ID, nil
}

func writeSync(path string, b []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// List returns the cards of every model in dir, oldest first: sorted by
// as-of date, then id. A missing dir is an empty list; a model directory
// whose card cannot be read is an error naming it.
func List(dir string) ([]Card, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: list %s: %w", dir, err)
	}
	var cards []Card
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := readCard(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // not a model directory
		}
		if err != nil {
			return nil, err
		}
		cards = append(cards, c)
	}
	sort.Slice(cards, func(a, b int) bool {
		if cards[a].AsOf != cards[b].AsOf {
			return cards[a].AsOf < cards[b].AsOf
		}
		return cards[a].ID < cards[b].ID
	})
	return cards, nil
}

func readCard(mdir string) (Card, error) {
	b, err := os.ReadFile(filepath.Join(mdir, cardFile))
	if err != nil {
		return Card{}, err
	}
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return Card{}, fmt.Errorf("registry: read %s: %w", filepath.Join(mdir, cardFile), err)
	}
	if c.ID != filepath.Base(mdir) {
		return Card{}, fmt.Errorf("registry: %s holds the card of model %q: the directory was renamed or copied over", mdir, c.ID)
	}
	return c, nil
}

// Latest returns the card of the newest model in dir (by as-of date, then
// id), or an error wrapping ErrNoModel.
func Latest(dir string) (Card, error) {
	cards, err := List(dir)
	if err != nil {
		return Card{}, err
	}
	if len(cards) == 0 {
		return Card{}, fmt.Errorf("registry: %s: %w: train one with povrisk train", dir, ErrNoModel)
	}
	return cards[len(cards)-1], nil
}

// Load reads model id from dir ("" or "latest": the newest) and checks the
// forest against the checksum in its card. The profiles are nil when the
// model was saved without them.
func Load(dir, id string) (*forest.Forest, *kmeans.Model, Card, error) {
	if id == "" || id == "latest" {
		c, err := Latest(dir)
		if err != nil {
			return nil, nil, Card{}, err
		}
		id = c.ID
	}
	if err := checkID(id); err != nil {
		return nil, nil, Card{}, err
	}
	mdir := filepath.Join(dir, id)
	card, err := readCard(mdir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, Card{}, fmt.Errorf("registry: model %q in %s: %w (see povrisk models list)", id, dir, ErrNoModel)
	}
	if err != nil {
		return nil, nil, Card{}, err
	}
	fb, err := os.ReadFile(filepath.Join(mdir, forestFile))
	if err != nil {
		return nil, nil, Card{}, fmt.Errorf("registry: read forest of %s: %w", id, err)
	}
	sum := sha256.Sum256(fb)
	if hex.EncodeToString(sum[:]) != card.ModelSHA256 {
		return nil, nil, Card{}, fmt.Errorf("registry: %s: forest.bin does not match the checksum in its card: the file was altered; retrain or restore it", id)
	}
	f, err := forest.Read(bytes.NewReader(fb))
	if err != nil {
		return nil, nil, Card{}, fmt.Errorf("registry: decode forest of %s: %w", id, err)
	}
	var prof *kmeans.Model
	pf, err := os.Open(filepath.Join(mdir, profilesFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, nil, Card{}, fmt.Errorf("registry: open profiles of %s: %w", id, err)
	default:
		defer pf.Close()
		if prof, err = kmeans.Read(pf); err != nil {
			return nil, nil, Card{}, fmt.Errorf("registry: profiles of %s: %w", id, err)
		}
	}
	return f, prof, card, nil
}

// ReadCard reads the card of model id in dir.
func ReadCard(dir, id string) (Card, error) {
	if err := checkID(id); err != nil {
		return Card{}, err
	}
	c, err := readCard(filepath.Join(dir, id))
	if errors.Is(err, os.ErrNotExist) {
		return Card{}, fmt.Errorf("registry: model %q in %s: %w (see povrisk models list)", id, dir, ErrNoModel)
	}
	return c, err
}

// checkID refuses an id that is not a plain directory name, so that a
// model id can never reach outside the models directory.
func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return fmt.Errorf("registry: model id %q is not a plain name (see povrisk models list)", id)
	}
	return nil
}

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

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/calib"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/kmeans"
)

// ErrNoModel is wrapped by every error saying that a models directory
// holds no usable model: none at all, not the one asked for, or one whose
// files are unreadable or do not match their card. Such errors are also
// marked fault.NoModel.
var ErrNoModel = errors.New("no model")

// noModel is an error of kind fault.NoModel wrapping ErrNoModel.
func noModel(format string, a ...any) error {
	return fault.Wrap(fault.NoModel, &modelError{msg: fmt.Sprintf(format, a...)})
}

type modelError struct{ msg string }

func (e *modelError) Error() string { return e.msg }
func (e *modelError) Unwrap() error { return ErrNoModel }

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
	AsOf          string        `json:"as_of"`
	AsOfDates     []string      `json:"as_of_dates"`
	DataFrom      string        `json:"data_from,omitempty"` // first month with data in the warehouse
	DataTo        string        `json:"data_to,omitempty"`   // last day with data in the warehouse
	HorizonMonths int           `json:"horizon_months"`
	Features      []string      `json:"features"`
	CatalogHash   string        `json:"catalog_hash"`
	PolicySHA256  string        `json:"policy_sha256,omitempty"`
	Drops         []string      `json:"drops,omitempty"` // warehouse drops the data came from
	Params        forest.Params `json:"params"`
	Seed          uint64        `json:"seed"`
	TrainRows     int           `json:"train_rows"`
	TrainPositive int           `json:"train_positive"`
	OOBAUC        float64       `json:"oob_auc,omitempty"`
	// Metrics are the temporal validation figures (engine/train).
	Metrics        Metrics             `json:"metrics,omitzero"`
	TopFeatures    []FeatureImportance `json:"top_features"`
	Profiles       []ProfileSummary    `json:"profiles,omitempty"`
	TrainSeconds   float64             `json:"train_seconds"`
	ModelSHA256    string              `json:"model_sha256"`              // of forest.bin; set by Save
	ProfilesSHA256 string              `json:"profiles_sha256,omitempty"` // of profiles.json, when saved; set by Save
	Notes          []string            `json:"notes,omitempty"`

	// Kind is KindIdentification (or "" on older cards) or KindRelapse.
	Kind string `json:"kind,omitempty"`
	// Family is FamilyForest (or "" on older cards) or FamilyBoost; the
	// model file is ModelFile ("" on older cards: forest.bin). Params
	// holds a forest's parameters, FamilyParams a boosted model's.
	Family       string          `json:"family,omitempty"`
	ModelFile    string          `json:"model_file,omitempty"`
	FamilyParams json.RawMessage `json:"family_params,omitempty"`
	// CalibSHA256 is the checksum of calib.json, the calibrator of the
	// model's scores ("" when the scores are raw); Calibration says how it
	// was chosen and how well the scores are calibrated.
	CalibSHA256 string             `json:"calib_sha256,omitempty"`
	Calibration *CalibrationReport `json:"calibration,omitempty"`
	// Selection: the grid, every configuration's scores on the rolling
	// origins and the choice.
	Selection *Selection `json:"selection,omitempty"`
	// Fairness: the audit of the county top-k list on the latest origin.
	Fairness *eval.Fairness `json:"fairness,omitempty"`
	// PermutationImportance: mean drop of the latest origin's test AUC when
	// a feature is shuffled, beside TopFeatures (impurity), same order.
	PermutationImportance []FeatureImportance `json:"permutation_importance,omitempty"`
	// LabelsFromVisits: training labels of the saved model that came from
	// a visit outcome (features.Label.FromVisit); nil when not counted.
	LabelsFromVisits *int `json:"labels_from_visits,omitempty"`
	// Sampling: the negatives sampled from the saved model's training rows
	// (nil: every row used).
	Sampling *Sampling `json:"sampling,omitempty"`
}

// IsKind reports whether the card is a model of kind (an empty Kind is an
// identification model).
func (c Card) IsKind(kind string) bool {
	k := c.Kind
	if k == "" {
		k = KindIdentification
	}
	if kind == "" {
		kind = KindIdentification
	}
	return k == kind
}

// ModelFileName is the file of the model's trees in its directory.
func (c Card) ModelFileName() string {
	if c.ModelFile == "" {
		return forestFile
	}
	return c.ModelFile
}

// Checksums are the sha256 of every file of the model directory its card
// covers, by file name (the model file, profiles.json and calib.json when
// present): what a run records of the model in its audit.
func (c Card) Checksums() map[string]string {
	out := map[string]string{c.ModelFileName(): c.ModelSHA256}
	if c.ProfilesSHA256 != "" {
		out[profilesFile] = c.ProfilesSHA256
	}
	if c.CalibSHA256 != "" {
		out[calibFile] = c.CalibSHA256
	}
	return out
}

const (
	forestFile   = "forest.bin"
	profilesFile = "profiles.json"
	calibFile    = "calib.json"
	cardFile     = "card.json"
	cardMDFile   = "card.md"
)

// codec reads and writes the trees of one model family.
type codec struct {
	file   string
	prefix string // of the model id
	encode func(m models.Classifier) ([]byte, bool)
	decode func(b []byte) (models.Classifier, error)
}

// codecs are the model families the registry knows, by Family; boost.go
// adds the boosted trees.
var codecs = map[string]codec{
	FamilyForest: {file: forestFile, prefix: "rf-",
		encode: func(m models.Classifier) ([]byte, bool) {
			f, ok := m.(*forest.Forest)
			if !ok {
				return nil, false
			}
			var b bytes.Buffer
			if _, err := f.WriteTo(&b); err != nil {
				return nil, false
			}
			return b.Bytes(), true
		},
		decode: func(b []byte) (models.Classifier, error) { return forest.Read(bytes.NewReader(b)) },
	},
}

// familyOf finds the codec that encodes m.
func familyOf(m models.Classifier) (string, codec, []byte, error) {
	names := make([]string, 0, len(codecs))
	for n := range codecs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if b, ok := codecs[n].encode(m); ok {
			return n, codecs[n], b, nil
		}
	}
	return "", codec{}, nil, fmt.Errorf("registry: save: a model of type %T is not a known family", m)
}

// TopImportances returns the n most important features of f, by importance
// descending (ties by feature order).
func TopImportances(f models.Classifier, n int) []FeatureImportance {
	return TopOf(f.FeatureNames(), f.Importances(), n)
}

// TopOf returns the n features of names with the largest imp, descending
// (ties by feature order); n <= 0: all.
func TopOf(names []string, imp []float64, n int) []FeatureImportance {
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

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Save writes model m (a forest, a boosted model, or either wrapped by
// calib.Wrap), the optional profiles and card under dir/<id>, records the
// model as the newest in the registry's index (see Latest) and returns
// the id. card.ID, card.Family, card.ModelFile, card.ModelSHA256,
// card.ProfilesSHA256 and card.CalibSHA256 are filled in; card.Features
// is taken from the model when empty and must otherwise equal its
// features. Saving a model whose id exists replaces it (same bytes) and
// makes it the newest again. The id is <prefix><as-of>-<sha8> with prefix
// rf- (forest) or gb- (boost), after relapse- for a relapse model.
func Save(dir string, f models.Classifier, profiles *kmeans.Model, card Card) (string, error) {
	files, card, err := encodeModel(f, profiles, card)
	if err != nil {
		return "", err
	}
	unlock, err := lockIndex(dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := writeModelDir(dir, card.ID, files); err != nil {
		return "", err
	}
	if err := appendIndex(dir, card.ID); err != nil {
		return "", err
	}
	return card.ID, nil
}

// encodeModel checks the card against the forest and returns the bytes
// of every file of the model directory, and the card with its id and
// checksums filled in.
func encodeModel(f models.Classifier, profiles *kmeans.Model, card Card) (map[string][]byte, Card, error) {
	if f == nil {
		return nil, card, errors.New("registry: save: no model")
	}
	var cal *calib.Calibrator
	if c, ok := f.(*calib.Calibrated); ok {
		f, cal = c.Inner, c.Cal
	}
	if card.AsOf == "" {
		return nil, card, errors.New("registry: save: card has no as-of date")
	}
	feats := f.FeatureNames()
	if len(card.Features) == 0 {
		card.Features = feats
	} else if strings.Join(card.Features, "\x00") != strings.Join(feats, "\x00") {
		return nil, card, fmt.Errorf("registry: save: card lists %d features, the forest %d (or in another order)", len(card.Features), len(feats))
	}
	fam, cd, fb, err := familyOf(f)
	if err != nil {
		return nil, card, err
	}
	card.Family, card.ModelFile = fam, cd.file
	if fam == FamilyForest {
		card.ModelFile = "" // older readers find forest.bin
	}
	card.ModelSHA256 = sha256Hex(fb)
	card.ID = cd.prefix + card.AsOf + "-" + card.ModelSHA256[:8]
	if card.Kind == KindRelapse {
		card.ID = "relapse-" + card.ID
	}
	if err := checkID(card.ID); err != nil {
		return nil, card, fmt.Errorf("registry: save: as-of %q makes a bad model id: %w", card.AsOf, err)
	}
	files := map[string][]byte{cd.file: fb}
	card.CalibSHA256 = ""
	if cal != nil {
		var cb bytes.Buffer
		if _, err := cal.WriteTo(&cb); err != nil {
			return nil, card, fmt.Errorf("registry: encode calibrator: %w", err)
		}
		files[calibFile] = cb.Bytes()
		card.CalibSHA256 = sha256Hex(cb.Bytes())
	}
	card.ProfilesSHA256 = ""
	if profiles != nil {
		var pb bytes.Buffer
		if _, err := profiles.WriteTo(&pb); err != nil {
			return nil, card, fmt.Errorf("registry: encode profiles: %w", err)
		}
		files[profilesFile] = pb.Bytes()
		card.ProfilesSHA256 = sha256Hex(pb.Bytes())
	}
	cj, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return nil, card, fmt.Errorf("registry: encode card (a metric may be NaN or Inf): %w", err)
	}
	files[cardFile] = append(cj, '\n')
	files[cardMDFile] = []byte(Markdown(card))
	return files, card, nil
}

// writeModelDir writes files into dir/.tmp-<id> and renames it to dir/<id>,
// replacing a directory of that name.
func writeModelDir(dir, id string, files map[string][]byte) error {
	tmp := filepath.Join(dir, ".tmp-"+id)
	if err := os.RemoveAll(tmp); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("registry: clear %s: %w", tmp, err))
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("registry: create %s: %w", tmp, err))
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := atomicfile.WriteFile(filepath.Join(tmp, n), files[n], 0o644); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("registry: %w", err)
		}
	}
	final := filepath.Join(dir, id)
	if err := os.RemoveAll(final); err != nil {
		os.RemoveAll(tmp)
		return fault.Wrap(fault.Write, fmt.Errorf("registry: replace %s: %w", final, err))
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return fault.Wrap(fault.Write, fmt.Errorf("registry: move model into place: %w", err))
	}
	return atomicfile.SyncDir(dir)
}

// List returns the cards of every model in dir, oldest first: in the
// order they were saved (the registry's index), after any model saved
// before the index existed (those by as-of date, then id). A missing dir
// is an empty list; a model directory whose card cannot be read is an
// error naming it.
func List(dir string) ([]Card, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: list %s: %w", dir, err)
	}
	idx, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	seq := map[string]int64{}
	for _, e := range idx {
		seq[e.ID] = e.Seq
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
		sa, sb := seq[cards[a].ID], seq[cards[b].ID] // 0: saved before the index
		if sa != sb {
			return sa < sb
		}
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
	return parseCard(b, mdir)
}

// parseCard decodes the card.json of model directory mdir.
func parseCard(b []byte, mdir string) (Card, error) {
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return Card{}, noModel("registry: read %s: %v: restore the model directory or retrain", filepath.Join(mdir, cardFile), err)
	}
	if c.ID != filepath.Base(mdir) {
		return Card{}, noModel("registry: %s holds the card of model %q: the directory was renamed or copied over", mdir, c.ID)
	}
	return c, nil
}

// Latest returns the card of the identification model saved last in dir
// (see List), or an error wrapping ErrNoModel.
func Latest(dir string) (Card, error) { return LatestKind(dir, KindIdentification) }

// LatestKind returns the card of the model of kind saved last in dir ("":
// identification), or an error wrapping ErrNoModel.
func LatestKind(dir, kind string) (Card, error) {
	cards, err := List(dir)
	if err != nil {
		return Card{}, err
	}
	for i := len(cards) - 1; i >= 0; i-- {
		if cards[i].IsKind(kind) {
			return cards[i], nil
		}
	}
	if kind == KindRelapse {
		return Card{}, noModel("registry: %s: no relapse model: %v: train one with povrisk train --relapse", dir, ErrNoModel)
	}
	return Card{}, noModel("registry: %s: %v: train one with povrisk train", dir, ErrNoModel)
}

// Load reads model id from dir ("" or "latest": the identification model
// saved last) and checks its model file, profiles.json and calib.json
// against the checksums in its card; a file that does not match, or a
// profiles.json or calib.json the card does not cover, is refused
// (fault.NoModel, naming the file). The model is a *forest.Forest, a
// boosted model, or either wrapped in a *calib.Calibrated when the card
// records a calibrator. The profiles are nil when the model was saved
// without them.
func Load(dir, id string) (models.Classifier, *kmeans.Model, Card, error) {
	if id == "" || id == "latest" {
		c, err := Latest(dir)
		if err != nil {
			return nil, nil, Card{}, err
		}
		id = c.ID
	}
	card, err := ReadCard(dir, id)
	if err != nil {
		return nil, nil, Card{}, err
	}
	mdir := filepath.Join(dir, id)
	fam := card.Family
	if fam == "" {
		fam = FamilyForest
	}
	cd, ok := codecs[fam]
	if !ok {
		return nil, nil, Card{}, noModel("registry: model %s is of family %q, which this build cannot read: use a povrisk that knows it, or retrain", id, card.Family)
	}
	fpath := filepath.Join(mdir, card.ModelFileName())
	fb, err := os.ReadFile(fpath)
	if err != nil {
		return nil, nil, Card{}, noModel("registry: model %s: %v: restore it or retrain", id, err)
	}
	if sha256Hex(fb) != card.ModelSHA256 {
		return nil, nil, Card{}, noModel("registry: model %s: %s does not match the checksum in its card: the file was altered; retrain or restore it", id, fpath)
	}
	f, err := cd.decode(fb)
	if err != nil {
		return nil, nil, Card{}, noModel("registry: model %s: %s: %v", id, fpath, err)
	}
	prof, err := loadProfiles(mdir, card)
	if err != nil {
		return nil, nil, Card{}, err
	}
	cal, err := loadCalib(mdir, card)
	if err != nil {
		return nil, nil, Card{}, err
	}
	if cal != nil {
		f = calib.Wrap(f, cal)
	}
	return f, prof, card, nil
}

// loadCalib reads calib.json of model directory mdir, checked against the
// card; nil when the model has none.
func loadCalib(mdir string, card Card) (*calib.Calibrator, error) {
	path := filepath.Join(mdir, calibFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && card.CalibSHA256 == "":
		return nil, nil
	case err != nil:
		return nil, noModel("registry: model %s: %v: its card records a calibrator; restore it or retrain", card.ID, err)
	case card.CalibSHA256 == "":
		return nil, noModel("registry: model %s: %s is not covered by the checksums of its card (added by hand?): remove it or retrain", card.ID, path)
	case sha256Hex(b) != card.CalibSHA256:
		return nil, noModel("registry: model %s: %s does not match the checksum in its card: the file was altered; retrain or restore it", card.ID, path)
	}
	c, err := calib.Read(bytes.NewReader(b))
	if err != nil {
		return nil, noModel("registry: model %s: %s: %v", card.ID, path, err)
	}
	return c, nil
}

// loadProfiles reads profiles.json of model directory mdir, checked
// against the card; nil when the model has none.
func loadProfiles(mdir string, card Card) (*kmeans.Model, error) {
	path := filepath.Join(mdir, profilesFile)
	pb, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && card.ProfilesSHA256 == "":
		return nil, nil
	case err != nil:
		return nil, noModel("registry: model %s: %v: its card records profiles; restore them or retrain", card.ID, err)
	case card.ProfilesSHA256 == "":
		return nil, noModel("registry: model %s: %s is not covered by the checksums of its card (added, or the model predates profile checksums): retrain", card.ID, path)
	case sha256Hex(pb) != card.ProfilesSHA256:
		return nil, noModel("registry: model %s: %s does not match the checksum in its card: the file was altered; retrain or restore it", card.ID, path)
	}
	prof, err := kmeans.Read(bytes.NewReader(pb))
	if err != nil {
		return nil, noModel("registry: model %s: %s: %v", card.ID, path, err)
	}
	return prof, nil
}

// ReadCard reads the card of model id in dir.
func ReadCard(dir, id string) (Card, error) {
	if err := checkID(id); err != nil {
		return Card{}, err
	}
	c, err := readCard(filepath.Join(dir, id))
	if errors.Is(err, os.ErrNotExist) {
		return Card{}, noModel("registry: model %q in %s: %v (see povrisk models list)", id, dir, ErrNoModel)
	}
	return c, err
}

// checkID refuses an id that is not a plain directory name, so that a
// model id can never reach outside the models directory.
func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return fault.Wrap(fault.Usage, fmt.Errorf("registry: model id %q is not a plain name (see povrisk models list)", id))
	}
	return nil
}

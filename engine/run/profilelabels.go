package run

import "github.com/povrisk/povrisk/models/kmeans"

// ProfileLabels returns the table that names risk profiles.
//
// Deprecated: convert features.ProfileLabels, the catalog's own table (this
// wrapper stays for one release for callers outside the repository).
func ProfileLabels() map[string]kmeans.Label { return profileLabels() }

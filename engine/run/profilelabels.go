package run

import "github.com/povrisk/povrisk/models/kmeans"

// ProfileLabels returns the table that names risk profiles: for each model
// feature that can lead a k-means cluster, the profile's name, its Chinese
// wording and the official risk type it points to. Pass it to
// kmeans.Model.Profile to name clusters exactly as the nightly run does
// (the notebooks use it). The map is a fresh copy.
func ProfileLabels() map[string]kmeans.Label { return profileLabels() }

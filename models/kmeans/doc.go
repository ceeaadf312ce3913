// Package kmeans clusters the rows of a models.Matrix into k risk profiles
// with k-means (k-means++ seeding, Lloyd iterations, several restarts) and
// describes each cluster by the features that set its centre apart.
//
// Inputs are standardised on Fit: each column becomes z = (x - mean) / sd
// with the mean and population standard deviation of its non-missing values
// (sd 0 is taken as 1), and a missing value (NaN) becomes 0 after
// standardising, i.e. the column mean. The means and deviations are stored
// in the Model, so Assign standardises new rows the same way, and centres,
// inertia and silhouettes are all in standardised units.
//
// Results depend only on the data, the options and the seed: rows are cut
// into fixed chunks, chunks are worked on by Workers goroutines, and partial
// sums are reduced in chunk order, so Workers 1 and Workers 8 give the same
// clusters bit for bit. Randomness comes from math/rand/v2 PCG seeded by
// Options.Seed and the restart number.
//
// Naming a cluster in words is left to the caller, who knows what the
// features mean; Profile turns a caller's map feature -> (name, risk type)
// into a name from the cluster's strongest positive traits, so that the
// nightly run and the notebooks name clusters one way.
package kmeans

// Package datasets knows the verification data standard (DATA-STANDARD v1)
// and simulates drops that follow it.
//
// standard.go describes every table and column of the standard: its kind,
// code list, bounds, keys and references, and the Arrow type it is stored
// under in the warehouse. The ingest in package engine checks drops against
// it; the simulator writes drops that follow it. Nothing here knows of
// features or models.
package datasets

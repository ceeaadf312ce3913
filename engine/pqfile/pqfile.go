// Package pqfile owns the settings of every Parquet file povrisk writes
// (the warehouse, feature tables, run directories, simulated drops), so
// that the same table always gives the same bytes. It is a leaf.
package pqfile

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RowGroup is the default number of rows per row group and Arrow batch.
const RowGroup = 64 * 1024

// Settings are the choices a writer may make; the rest is fixed.
type Settings struct {
	CreatedBy string   // "povrisk" when empty
	RowGroup  int      // RowGroup when 0
	NoDict    []string // columns written without a dictionary (unique keys, free text, amounts)
	// NoStats are columns written without min/max statistics: hashes,
	// whose range is every row group's and prunes nothing.
	NoStats []string
	// NoStatistics leaves out the statistics of every column: for files
	// that are read whole and never pruned (a shard's part tables), whose
	// footers a reader would otherwise decode at about 2 KB per statistic
	// (arrow-go's thrift reads each min and max through a growing buffer:
	// a 250,000-household features part of 30 row groups takes 17 MB to
	// open, once per part and gathered table in a merge).
	NoStatistics bool
	Zstd         bool // zstd instead of snappy (smaller, slower; for files kept long)
}

// Props returns the writer properties for schema. Float columns never get
// a dictionary (their values rarely repeat), and a dictionary never falls
// back to PLAIN part-way through a chunk: arrow-go then lists a chunk's
// page encodings from a map, in random order, and the footer would differ
// from run to run.
func Props(schema *arrow.Schema, s Settings) *parquet.WriterProperties {
	codec := compress.Codecs.Snappy
	if s.Zstd {
		codec = compress.Codecs.Zstd
	}
	by := s.CreatedBy
	if by == "" {
		by = "povrisk"
	}
	rg := s.RowGroup
	if rg <= 0 {
		rg = RowGroup
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithCreatedBy(by),
		parquet.WithMaxRowGroupLength(int64(rg)),
		parquet.WithDictionaryDefault(true),
		parquet.WithDictionaryPageSizeLimit(1 << 30),
		parquet.WithStats(!s.NoStatistics),
	}
	for _, c := range s.NoDict {
		opts = append(opts, parquet.WithDictionaryFor(c, false))
	}
	for _, c := range s.NoStats {
		opts = append(opts, parquet.WithStatsFor(c, false))
	}
	if schema != nil {
		for _, f := range schema.Fields() {
			if f.Type.ID() == arrow.FLOAT64 || f.Type.ID() == arrow.FLOAT32 {
				opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
			}
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// ArrowProps are the Arrow-side properties: the Arrow schema is stored,
// so that readers get back exactly the types that were written.
func ArrowProps() pqarrow.ArrowWriterProperties {
	return pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
}

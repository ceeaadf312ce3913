package rundir

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// NewParquetWriter returns a Parquet writer with the run directory's fixed
// settings, for a table written one record batch (one row group) at a
// time: engine/run's merge of county groups. The caller closes it.
func NewParquetWriter(schema *arrow.Schema, w io.Writer) (*pqarrow.FileWriter, error) {
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), arrowProps())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return fw, nil
}

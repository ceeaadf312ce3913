package run

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
)

// utf8BOM starts ranked.csv so that Excel and WPS open it as UTF-8.
const utf8BOM = "\ufeff"

func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// writeRankedCSV writes rows as ranked.csv: UTF-8 with BOM, the columns of
// ranked.parquet in the same order, null as an empty field.
func writeRankedCSV(w io.Writer, rows []row) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(rankedSchema.Fields()))
	for i, f := range rankedSchema.Fields() {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for i := range rows {
		r := &rows[i]
		rec = append(rec[:0], r.HouseholdID, r.RegionCode, r.CountyCode, r.TownshipCode, r.PovertyStatus,
			fmtFloat(r.Score), strconv.Itoa(int(r.Rank)), strconv.Itoa(int(r.RankCounty)), strconv.Itoa(int(r.RankTownship)),
			r.Tier, strconv.FormatBool(r.InTopK), r.Profile, r.ProfileZh, r.Rules, r.RiskTypes, r.RiskTypesZh,
			r.PrimaryRiskType, r.Reasons, r.ReasonsEn, r.TopDriver, r.Conflicts, r.Measures, r.MeasuresZh,
			fmtFloat(r.NetIncomePC12m), fmtFloat(r.OOPMedical12m))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

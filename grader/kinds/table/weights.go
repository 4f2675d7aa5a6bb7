package table

import "coldstart/grader"

// weightedColumns reads the optional weight of each column of the scenario:
// a column that draws the conclusion from the others may count more.
type weightedColumns struct {
	Columns []struct {
		ID     string   `yaml:"id"`
		Weight *float64 `yaml:"weight"`
	} `yaml:"columns"`
}

// Scoring implements grader.Scorer: every cell is worth one point, or its
// column's weight; rows, columns or cells the grid does not have are an
// error of form that earns nothing. An empty cell already fails.
func (Kind) Scoring(spec grader.Spec) grader.Scoring {
	s := grader.Scoring{Weights: map[string]float64{CheckUnknown: 0}}
	var wc weightedColumns
	if err := spec.DecodeScenario(&wc); err != nil {
		return s
	}
	for _, c := range wc.Columns {
		if c.Weight != nil {
			s.Weights["table.*."+c.ID] = *c.Weight
		}
	}
	return s
}

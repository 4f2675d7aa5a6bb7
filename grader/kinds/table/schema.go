package table

import "coldstart/grader"

// Schema implements grader.Schemer: the grid of the scenario block. The
// cell checks are named after the grid's rows and columns.
func (Kind) Schema() grader.Schema {
	text := grader.Text
	options := grader.List("options", "the choices", text("", ""))
	return grader.Schema{
		Scenario: []grader.Field{
			options,
			grader.List("rows", "the rows of the grid", grader.Object("", "", text("id", "the row's id in answers and check ids").Need(), text("title", "what the student reads"))).Need(),
			grader.List("columns", "the questions asked of every row", grader.Object("", "",
				text("id", "the column's id in answers and check ids").Need(), text("title", "what the student reads"),
				grader.List("options", "this column's own choices", text("", "")),
				grader.Number("weight", "the points each cell of the column is worth (default 1)", 0, 10))).Need(),
			grader.Map("answers", "row id → column id → the cell's key", grader.Map("", "", grader.Object("", "",
				grader.List("accept", "the accepted values; the first is the course's answer", text("", "")).Need(),
				text("why", "the reason behind the answer").Need()))).Need(),
		},
		Answer: "a JSON object `{\"cells\": {\"<row>\": {\"<column>\": \"<option>\"}}}`; the page shows the grid as radio buttons",
		Lab:    "None: the table kind runs nothing, so `lab:` is refused. The check of a cell is `table.<row>.<column>`.",
		Checks: []string{"table.*.*", CheckUnknown},
	}
}

// CheckSpec implements grader.SpecChecker: every cell has a key whose
// values are options of its column.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := LoadGrid(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	return nil
}

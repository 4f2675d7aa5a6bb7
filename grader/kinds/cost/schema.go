package cost

import "coldstart/grader"

// Schema implements grader.Schemer: the sheet of the scenario block. The
// checks of lines and totals are named after their ids.
func (Kind) Schema() grader.Schema {
	text, object := grader.Text, grader.Object
	factor := object("", "", grader.Number("value", "the number", 0, 1e12).Need(), text("unit", `what it counts ("tasks", "hours a day")`))
	return grader.Schema{
		Scenario: []grader.Field{
			grader.List("prices", "the dated list prices the exercise uses", object("",
				"", text("id", "the price's id, which lines name").Need(), grader.Number("amount", "the price", 0, 1e9).Need(),
				text("per", `the unit the amount buys, e.g. "vCPU-hour"`).Need(), text("source", "where the price was read").Need(),
				text("date", "when the price was read, YYYY-MM-DD").Need())).Need(),
			grader.List("groups", "sets of lines that add up to one total, such as one platform", object("",
				"", text("id", "the group's id, in totals and check ids").Need(), text("title", "what the student reads"))).Need(),
			grader.List("lines", "the lines of the bill", object("",
				"", text("id", "the line's id, in the answer and check ids").Need(), text("title", "what the student reads"),
				text("group", "the group the line adds to").Need(),
				grader.List("terms", "products of factors that are added up to the usage", grader.List("", "", factor)).Need(),
				grader.Number("free", "an allowance in the price's unit, subtracted from the usage", 0, 1e12),
				text("price", "the id of the price the usage is billed at").Need(),
				text("why", "the reasoning behind the usage, shown when the line is wrong").Need())).Need(),
			text("cheaper", "the id of the group with the smaller total; checked against the arithmetic").Need(),
		},
		Checks: []string{"cost.line.*", "cost.total.*", CheckCheaper, CheckUnknown},
		Answer: "a JSON object with `lines` (each `quantity` and `cost`), `totals` per group and `cheaper`",
		Lab:    "None: the cost kind runs nothing, so `lab:` is refused. The check of a line is `cost.line.<id>`, of a total `cost.total.<group>`.",
	}
}

// CheckSpec implements grader.SpecChecker: the sheet's arithmetic and
// references hold.
func (Kind) CheckSpec(spec grader.Spec) []grader.SpecProblem {
	if _, err := LoadSheet(spec); err != nil {
		return []grader.SpecProblem{{Path: []string{"scenario"}, Message: err.Error()}}
	}
	return nil
}

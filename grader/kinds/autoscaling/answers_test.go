package autoscaling

// runAnswers are the answers the run phase decides: the reference, and the
// known-wrong answers with the check each fails, the field it points at,
// and a phrase of its reason, so that a wrong answer fails for its own
// reason and not by accident.
var runAnswers = []struct {
	file, fails, field, phrase string
}{
	{file: "solution.json"},
	{"wrong/max-too-low.json", CheckLatency, "/RegisterScalableTarget/MaxCapacity", "sat at its MaxCapacity of 4 tasks"},
	{"wrong/target-too-high.json", CheckLatency, cfgField + "/TargetValue", "With the target at 90"},
	{"wrong/memory-metric.json", CheckLatency, cfgField + "/PredefinedMetricSpecification/PredefinedMetricType", "memory stays at 35%"},
	{"wrong/scale-out-cooldown-too-long.json", CheckLatency, cfgField + "/ScaleOutCooldown", "within the 900 s scale-out cooldown"},
	{"wrong/scale-in-disabled.json", CheckTaskSeconds, cfgField + "/DisableScaleIn", "Scale-in is disabled"},
	{"wrong/min-too-high.json", CheckTaskSeconds, "/RegisterScalableTarget/MinCapacity", "MinCapacity keeps 6 tasks"},
	{"wrong/target-too-low.json", CheckTaskSeconds, cfgField + "/TargetValue", "With the target at 30"},
}

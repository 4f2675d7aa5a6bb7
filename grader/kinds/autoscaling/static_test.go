package autoscaling_test

import (
	"context"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/autoscaling"
)

const exerciseDir = "../../../exercises/ecs-service-autoscaling"

// staticWhy holds a phrase of each static wrong answer's failure: the rule
// it names.
var staticWhy = map[string]string{
	"wrong/min-above-max.json":           "Capacity range: MaxCapacity 4 is below MinCapacity 8",
	"wrong/wrong-dimension.json":         "Scalable target: ScalableDimension is \"ecs:service:TaskCount\"",
	"wrong/asg-metric.json":              "ASGAverageCPUUtilization is an EC2 Auto Scaling group's metric",
	"wrong/misspelt-cooldown.json":       `did you mean "ScaleOutCooldown"?`,
	"wrong/step-scaling.json":            "Policy type: StepScaling acts on CloudWatch alarms you create",
	"wrong/target-over-100.json":         "a TargetValue of 160 is one the metric never reaches",
	"wrong/resource-label-on-cpu.json":   "a ResourceLabel belongs only to ALBRequestCountPerTarget",
	"wrong/negative-cooldown.json":       "ScaleInCooldown -60 is negative",
	"wrong/policy-on-other-service.json": "is not the scalable target's",
}

func TestStaticWrongAnswersFailWithoutContainers(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	n := 0
	for _, w := range ex.Wrong {
		phrase, ok := staticWhy[w.File]
		if !ok {
			continue
		}
		n++
		t.Run(w.File, func(t *testing.T) {
			res := gradertest.GradeStatic(t, autoscaling.Kind{}, ex.Spec, w.Body)
			c := res.Check(w.Fails)
			if res.Status != grader.StatusFail || c == nil || c.Status != grader.CheckFail || c.Field == "" || !strings.Contains(c.Message, phrase) {
				t.Fatalf("status %s, check %s: %+v", res.Status, w.Fails, c)
			}
			for _, id := range []string{autoscaling.CheckLatency, autoscaling.CheckTaskSeconds} {
				if r := res.Check(id); r == nil || r.Status != grader.CheckSkip {
					t.Errorf("%s was not skipped: %+v", id, r)
				}
			}
		})
	}
	if n != len(staticWhy) {
		t.Fatalf("%d of the %d static wrong answers are listed in exercise.md", n, len(staticWhy))
	}
}

func TestStaticRules(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	tests := []struct {
		name, from, to, check, want string
	}{
		{"a service may scale to zero", `"MinCapacity": 2`, `"MinCapacity": 0`, autoscaling.CheckTarget, ""},
		{"a negative minimum", `"MinCapacity": 2`, `"MinCapacity": -1`, autoscaling.CheckTarget, "MinCapacity -1 is negative"},
		{"the range is required", `"MaxCapacity": 8`, `"RoleARN": "arn:aws:iam::123456789012:role/ecsAutoscaleRole"`, autoscaling.CheckTarget, "MaxCapacity is required"},
		{"another namespace", `"ServiceNamespace": "ecs",
    "ResourceId": "service/shop/orders-api",
    "ScalableDimension": "ecs:service:DesiredCount",
    "MinCapacity"`, `"ServiceNamespace": "ec2",
    "ResourceId": "service/shop/orders-api",
    "ScalableDimension": "ecs:service:DesiredCount",
    "MinCapacity"`, autoscaling.CheckTarget, "an ECS service is in the namespace ecs"},
		{"another service", `"ResourceId": "service/shop/orders-api",
    "ScalableDimension": "ecs:service:DesiredCount",
    "MinCapacity"`, `"ResourceId": "service/shop/orders-worker",
    "ScalableDimension": "ecs:service:DesiredCount",
    "MinCapacity"`, autoscaling.CheckTarget, "is not the service this exercise scales"},
		{"a metric misspelt", `"ECSServiceAverageCPUUtilization"`, `"ECSServiceAverageCPUUtilisation"`, autoscaling.CheckMetric, `did you mean "ECSServiceAverageCPUUtilization"?`},
		{"ALB metric without its label", `"ECSServiceAverageCPUUtilization"`, `"ALBRequestCountPerTarget"`, autoscaling.CheckMetric, "needs a ResourceLabel"},
		{"no target value", `"TargetValue": 70.0,`, ``, autoscaling.CheckTargetValue, "TargetValue is required"},
		{"a zero target", `"TargetValue": 70.0`, `"TargetValue": 0`, autoscaling.CheckTargetValue, "outside the range the API accepts"},
		{"an empty policy name", `"orders-api-cpu-target"`, `""`, autoscaling.CheckPolicy, "PolicyName must be 1 to 256"},
		{"cooldowns left out take the default", `"ScaleOutCooldown": 120,`, ``, autoscaling.CheckCooldowns, "an ECS service's default is 300 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(string(ex.Solution), tt.from, tt.to, 1)
			if body == string(ex.Solution) {
				t.Fatalf("the solution has no %q", tt.from)
			}
			res := gradertest.GradeStatic(t, autoscaling.Kind{}, ex.Spec, []byte(body))
			c := res.Check(tt.check)
			switch {
			case c == nil:
				t.Fatalf("no check %s: %+v", tt.check, res)
			case tt.want == "" && c.Status != grader.CheckPass:
				t.Fatalf("%s failed: %s", tt.check, c.Message)
			case tt.want != "" && (c.Status != grader.CheckFail || !strings.Contains(c.Message, tt.want)):
				if c.Status != grader.CheckPass || !strings.Contains(c.Message, tt.want) {
					t.Fatalf("%s %s: %s (want %q)", tt.check, c.Status, c.Message, tt.want)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	engine := grader.NewEngine(nil, nil, autoscaling.Kind{})
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "the answer is empty"},
		{"not JSON", "MinCapacity: 2", "malformed JSON"},
		{"a list", "[1, 2]", "must be a JSON object"},
		{"trailing text", `{} {}`, "unexpected text after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: []byte(tc.body)})
			if res.Status != grader.StatusError || res.Gradable || len(res.Checks) != 1 || !strings.Contains(res.Checks[0].Message, tc.want) {
				t.Fatalf("%+v", res)
			}
		})
	}
	res := engine.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: []byte(`{"RegisterScalableTarget": {"MinCapacity": "two"}}`)})
	if c := res.Check(autoscaling.CheckSchema); res.Status != grader.StatusFail || c == nil || c.Field != "/RegisterScalableTarget/MinCapacity" || !strings.Contains(c.Message, "MinCapacity must be a number") {
		t.Fatalf("a string capacity: %+v", res)
	}
}

func TestTheStarterScoresNothing(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	s := autoscaling.Kind{}.Scoring(ex.Spec)
	if s.Weights[autoscaling.CheckLatency] != 3 || s.Weights[autoscaling.CheckTaskSeconds] != 2 || s.Core[0] != autoscaling.CheckLatency {
		t.Fatalf("scoring %+v", s)
	}
	res := gradertest.GradeStatic(t, autoscaling.Kind{}, ex.Spec, ex.Starter)
	if res.Score != 0 {
		t.Fatalf("the starter scores %v (%s)", res.Score, res.ScoreNote)
	}
	for _, c := range res.Checks {
		if c.Phase == grader.PhaseStatic && c.Status != grader.CheckPass {
			t.Errorf("the starter fails %s: %s", c.ID, c.Message)
		}
	}
}

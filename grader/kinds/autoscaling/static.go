package autoscaling

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"

	"coldstart/grader"
)

// Static check ids.
const (
	CheckSchema      = "as.schema"
	CheckTarget      = "as.scalable-target"
	CheckPolicy      = "as.policy"
	CheckMetric      = "as.metric"
	CheckTargetValue = "as.target-value"
	CheckCooldowns   = "as.cooldowns"
)

// The predefined metrics of an ECS service.
const (
	MetricCPU    = "ECSServiceAverageCPUUtilization"
	MetricMemory = "ECSServiceAverageMemoryUtilization"
	MetricALB    = "ALBRequestCountPerTarget"
)

var ecsMetrics = []string{MetricCPU, MetricMemory, MetricALB}

// otherMetrics are predefined metrics of other scalable targets, which a
// student meets in examples for EC2 Auto Scaling groups and Spot Fleets.
var otherMetrics = map[string]string{
	"ASGAverageCPUUtilization":                 "an EC2 Auto Scaling group's",
	"ASGAverageNetworkIn":                      "an EC2 Auto Scaling group's",
	"ASGAverageNetworkOut":                     "an EC2 Auto Scaling group's",
	"EC2SpotFleetRequestAverageCPUUtilization": "a Spot Fleet's",
	"RDSReaderAverageCPUUtilization":           "an Aurora cluster's",
	"DynamoDBReadCapacityUtilization":          "a DynamoDB table's",
	"DynamoDBWriteCapacityUtilization":         "a DynamoDB table's",
}

// defaultCooldown is what Application Auto Scaling uses for an ECS
// service when a cooldown is left out.
const defaultCooldown = 300

// Settings is a submission with the API's defaults filled in: what the
// scaler plays.
type Settings struct {
	Min, Max       int
	Metric         string
	Target         float64
	OutCooldown    int
	InCooldown     int
	DisableScaleIn bool
}

func settingsOf(s *Submission) Settings {
	st := Settings{OutCooldown: defaultCooldown, InCooldown: defaultCooldown}
	if t := s.RegisterScalableTarget; t != nil {
		st.Min, st.Max = deref(t.MinCapacity), deref(t.MaxCapacity)
	}
	if p := s.PutScalingPolicy; p != nil && p.TargetTrackingScalingPolicyConfiguration != nil {
		c := p.TargetTrackingScalingPolicyConfiguration
		if c.PredefinedMetricSpecification != nil {
			st.Metric = c.PredefinedMetricSpecification.PredefinedMetricType
		}
		if c.TargetValue != nil {
			st.Target = *c.TargetValue
		}
		if c.ScaleOutCooldown != nil {
			st.OutCooldown = *c.ScaleOutCooldown
		}
		if c.ScaleInCooldown != nil {
			st.InCooldown = *c.ScaleInCooldown
		}
		st.DisableScaleIn = c.DisableScaleIn != nil && *c.DisableScaleIn
	}
	return st
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func check(id, title string) grader.Check {
	return grader.Check{ID: id, Title: title, Phase: grader.PhaseStatic, MaxPoints: 1}
}

func pass(c grader.Check, msg string) grader.Check {
	c.Status, c.Points, c.Message = grader.CheckPass, c.MaxPoints, msg
	return c
}

func fail(c grader.Check, field, msg string) grader.Check {
	c.Status, c.Points, c.Field, c.Message = grader.CheckFail, 0, field, msg
	return c
}

// staticChecks lists the static checks in the order the student reads them.
func staticChecks() []grader.Check {
	return []grader.Check{
		check(CheckSchema, "Every field is one the Application Auto Scaling APIs know"),
		check(CheckTarget, "RegisterScalableTarget names the service and a valid capacity range"),
		check(CheckPolicy, "PutScalingPolicy is a target tracking policy on that scalable target"),
		check(CheckMetric, "The policy tracks a predefined metric of an ECS service"),
		check(CheckTargetValue, "The target value is one the metric can reach"),
		check(CheckCooldowns, "The cooldowns are whole seconds, not negative"),
	}
}

// judge returns the static checks of a submission whose fields all parsed.
func judge(s *Submission, sc *Scenario) []grader.Check {
	cs := staticChecks()
	out := []grader.Check{pass(cs[0], "every field is one the APIs know, with a value of its type")}
	out = append(out, judgeTarget(cs[1], s, sc), judgePolicy(cs[2], s), judgeMetric(cs[3], s), judgeTargetValue(cs[4], s), judgeCooldowns(cs[5], s))
	return out
}

// schemaFailure reports the fields that did not parse; the other static
// checks are skipped, as they would judge an answer the API never accepts.
func schemaFailure(probs []problem) []grader.Check {
	cs := staticChecks()
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.message
	}
	out := []grader.Check{fail(cs[0], probs[0].pointer, "Schema: "+strings.Join(msgs, "; "))}
	for _, c := range cs[1:] {
		c.Status, c.Points, c.Message = grader.CheckSkip, 0, "not judged: the answer has fields the APIs would refuse (see above)"
		out = append(out, c)
	}
	return out
}

const targetBase = "/RegisterScalableTarget"

func judgeTarget(c grader.Check, s *Submission, sc *Scenario) grader.Check {
	t := s.RegisterScalableTarget
	switch {
	case t == nil:
		return fail(c, targetBase, "RegisterScalableTarget is missing: a service must be registered as a scalable target before a policy can scale it")
	case t.ServiceNamespace != "ecs":
		return fail(c, targetBase+"/ServiceNamespace", fmt.Sprintf("Scalable target: ServiceNamespace is %q; an ECS service is in the namespace ecs", t.ServiceNamespace))
	case t.ScalableDimension != "ecs:service:DesiredCount":
		return fail(c, targetBase+"/ScalableDimension", fmt.Sprintf("Scalable target: ScalableDimension is %q; the one dimension of an ECS service is ecs:service:DesiredCount, its desired task count", t.ScalableDimension))
	case !resourceIDPattern.MatchString(t.ResourceId):
		return fail(c, targetBase+"/ResourceId", fmt.Sprintf("Scalable target: ResourceId %q must read service/CLUSTER/SERVICE", grader.Clip(t.ResourceId)))
	case t.ResourceId != sc.ResourceID:
		return fail(c, targetBase+"/ResourceId", fmt.Sprintf("Scalable target: ResourceId %q is not the service this exercise scales (%s)", grader.Clip(t.ResourceId), sc.ResourceID))
	case t.MinCapacity == nil:
		return fail(c, targetBase+"/MinCapacity", "Capacity range: MinCapacity is required when a scalable target is registered")
	case t.MaxCapacity == nil:
		return fail(c, targetBase+"/MaxCapacity", "Capacity range: MaxCapacity is required when a scalable target is registered")
	case *t.MinCapacity < 0:
		return fail(c, targetBase+"/MinCapacity", fmt.Sprintf("Capacity range: MinCapacity %d is negative; an ECS service may go as low as 0 tasks", *t.MinCapacity))
	case *t.MaxCapacity < *t.MinCapacity:
		return fail(c, targetBase+"/MaxCapacity", fmt.Sprintf("Capacity range: MaxCapacity %d is below MinCapacity %d; the API refuses a range whose maximum is below its minimum", *t.MaxCapacity, *t.MinCapacity))
	}
	return pass(c, fmt.Sprintf("%s may run %d to %d tasks", t.ResourceId, *t.MinCapacity, *t.MaxCapacity))
}

const policyBase = "/PutScalingPolicy"

func judgePolicy(c grader.Check, s *Submission) grader.Check {
	p, t := s.PutScalingPolicy, s.RegisterScalableTarget
	switch {
	case p == nil:
		return fail(c, policyBase, "PutScalingPolicy is missing: a scalable target without a policy keeps its task count")
	case p.PolicyName == "" || len([]rune(p.PolicyName)) > 256 || strings.IndexFunc(p.PolicyName, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fail(c, policyBase+"/PolicyName", "Policy: PolicyName must be 1 to 256 printable characters")
	case t != nil && p.ServiceNamespace != t.ServiceNamespace:
		return fail(c, policyBase+"/ServiceNamespace", fmt.Sprintf("Policy: ServiceNamespace %q is not the scalable target's (%q); a policy applies to a registered scalable target, named by its namespace, resource and dimension", p.ServiceNamespace, t.ServiceNamespace))
	case t != nil && p.ResourceId != t.ResourceId:
		return fail(c, policyBase+"/ResourceId", fmt.Sprintf("Policy: ResourceId %q is not the scalable target's (%q), so the policy would scale nothing that is registered", grader.Clip(p.ResourceId), grader.Clip(t.ResourceId)))
	case t != nil && p.ScalableDimension != t.ScalableDimension:
		return fail(c, policyBase+"/ScalableDimension", fmt.Sprintf("Policy: ScalableDimension %q is not the scalable target's (%q)", p.ScalableDimension, t.ScalableDimension))
	case p.PolicyType == "StepScaling":
		return fail(c, policyBase+"/PolicyType", "Policy type: StepScaling acts on CloudWatch alarms you create and wire to it, and this answer has none; this service is to track a target, so PolicyType is TargetTrackingScaling")
	case p.PolicyType != "TargetTrackingScaling":
		return fail(c, policyBase+"/PolicyType", fmt.Sprintf("Policy type: PolicyType %q must be TargetTrackingScaling (or StepScaling, which this exercise does not use)", p.PolicyType))
	case p.TargetTrackingScalingPolicyConfiguration == nil:
		return fail(c, policyBase+"/TargetTrackingScalingPolicyConfiguration", "Policy type: a TargetTrackingScaling policy needs its TargetTrackingScalingPolicyConfiguration")
	case p.StepScalingPolicyConfiguration != nil:
		return fail(c, policyBase+"/StepScalingPolicyConfiguration", "Policy type: StepScalingPolicyConfiguration belongs to a StepScaling policy, not to a target tracking one")
	}
	return pass(c, fmt.Sprintf("target tracking policy %q on %s", grader.Clip(p.PolicyName), p.ResourceId))
}

const configBase = policyBase + "/TargetTrackingScalingPolicyConfiguration"

var resourceLabelPattern = regexp.MustCompile(`^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`)

func config(s *Submission) *TargetTrackingConfig {
	if s.PutScalingPolicy == nil {
		return nil
	}
	return s.PutScalingPolicy.TargetTrackingScalingPolicyConfiguration
}

func judgeMetric(c grader.Check, s *Submission) grader.Check {
	cfg := config(s)
	if cfg == nil {
		return fail(c, configBase, "Metric: there is no target tracking configuration to name a metric in")
	}
	pm := cfg.PredefinedMetricSpecification
	switch {
	case cfg.CustomizedMetricSpecification != nil && pm != nil:
		return fail(c, configBase+"/CustomizedMetricSpecification", "Metric: give a predefined metric or a customized one, not both")
	case cfg.CustomizedMetricSpecification != nil:
		return fail(c, configBase+"/CustomizedMetricSpecification", "Metric: this service publishes no custom metric to CloudWatch; track one of the predefined ECS metrics ("+strings.Join(ecsMetrics, ", ")+")")
	case pm == nil:
		return fail(c, configBase+"/PredefinedMetricSpecification", "Metric: a target tracking policy needs the metric it tracks, here a PredefinedMetricSpecification")
	}
	const at = configBase + "/PredefinedMetricSpecification"
	mt := pm.PredefinedMetricType
	if !contains(ecsMetrics, mt) {
		if whose, ok := otherMetrics[mt]; ok {
			return fail(c, at+"/PredefinedMetricType", fmt.Sprintf("Metric: %s is %s metric, not an ECS service's; the ECS ones are %s", mt, whose, strings.Join(ecsMetrics, ", ")))
		}
		msg := fmt.Sprintf("Metric: %q is not a predefined metric of an ECS service", grader.Clip(mt))
		if sug := grader.Suggest(mt, ecsMetrics); sug != "" {
			msg += fmt.Sprintf(": did you mean %q?", sug)
		} else {
			msg += " (they are " + strings.Join(ecsMetrics, ", ") + ")"
		}
		return fail(c, at+"/PredefinedMetricType", msg)
	}
	switch {
	case mt == MetricALB && pm.ResourceLabel == "":
		return fail(c, at+"/ResourceLabel", "Metric: ALBRequestCountPerTarget needs a ResourceLabel naming the load balancer and target group whose requests it counts")
	case mt == MetricALB && !resourceLabelPattern.MatchString(pm.ResourceLabel):
		return fail(c, at+"/ResourceLabel", fmt.Sprintf("Metric: ResourceLabel %q must read app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID", grader.Clip(pm.ResourceLabel)))
	case mt != MetricALB && pm.ResourceLabel != "":
		return fail(c, at+"/ResourceLabel", fmt.Sprintf("Metric: a ResourceLabel belongs only to ALBRequestCountPerTarget; %s is the service's own metric and takes none", mt))
	}
	return pass(c, "the policy tracks "+mt)
}

func judgeTargetValue(c grader.Check, s *Submission) grader.Check {
	cfg := config(s)
	const at = configBase + "/TargetValue"
	if cfg == nil || cfg.TargetValue == nil {
		return fail(c, at, "Target value: TargetValue is required: it is the value of the metric the policy keeps the service at")
	}
	v := *cfg.TargetValue
	mt := ""
	if cfg.PredefinedMetricSpecification != nil {
		mt = cfg.PredefinedMetricSpecification.PredefinedMetricType
	}
	switch {
	case v < 8.515920e-109 || v > 1.174271e+108 || math.IsNaN(v):
		return fail(c, at, fmt.Sprintf("Target value: TargetValue %g is outside the range the API accepts (above 0, from 8.515920e-109 to 1.174271e+108)", v))
	case (mt == MetricCPU || mt == MetricMemory) && v > 100:
		return fail(c, at, fmt.Sprintf("Target value: %s is a percentage of what the tasks reserve, and on Fargate a task cannot use more than it reserves, so a TargetValue of %g is one the metric never reaches and the policy would never scale out", mt, v))
	}
	unit := "%"
	if mt == MetricALB {
		unit = " requests per task per minute"
	}
	return pass(c, fmt.Sprintf("the policy keeps the service near %g%s", v, unit))
}

func judgeCooldowns(c grader.Check, s *Submission) grader.Check {
	cfg := config(s)
	if cfg == nil {
		return fail(c, configBase, "Cooldowns: there is no target tracking configuration")
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"ScaleOutCooldown", cfg.ScaleOutCooldown}, {"ScaleInCooldown", cfg.ScaleInCooldown}} {
		if f.v != nil && *f.v < 0 {
			return fail(c, configBase+"/"+f.name, fmt.Sprintf("Cooldowns: %s %d is negative; a cooldown is a number of seconds from 0 up", f.name, *f.v))
		}
	}
	st := settingsOf(s)
	msg := fmt.Sprintf("scale-out cooldown %d s, scale-in cooldown %d s", st.OutCooldown, st.InCooldown)
	var left []string
	if cfg.ScaleOutCooldown == nil {
		left = append(left, "ScaleOutCooldown")
	}
	if cfg.ScaleInCooldown == nil {
		left = append(left, "ScaleInCooldown")
	}
	if len(left) > 0 {
		msg += fmt.Sprintf(" (%s left out: an ECS service's default is %d s)", strings.Join(left, " and "), defaultCooldown)
	}
	if st.DisableScaleIn {
		msg += "; scale-in is disabled, so the policy only ever adds tasks"
	}
	return pass(c, msg)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

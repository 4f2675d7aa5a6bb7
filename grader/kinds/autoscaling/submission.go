package autoscaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"coldstart/grader"
)

// Submission is the two Application Auto Scaling calls that put an ECS
// service under target tracking, in the shape their JSON input takes
// (aws application-autoscaling ... --cli-input-json): RegisterScalableTarget
// and PutScalingPolicy. Pointers tell a missing field from a zero.
type Submission struct {
	RegisterScalableTarget *ScalableTarget `json:"RegisterScalableTarget"`
	PutScalingPolicy       *ScalingPolicy  `json:"PutScalingPolicy"`
}

// ScalableTarget is the input of RegisterScalableTarget.
type ScalableTarget struct {
	ServiceNamespace  string `json:"ServiceNamespace"`
	ResourceId        string `json:"ResourceId"` //nolint:revive // the API's spelling
	ScalableDimension string `json:"ScalableDimension"`
	MinCapacity       *int   `json:"MinCapacity"`
	MaxCapacity       *int   `json:"MaxCapacity"`
	RoleARN           string `json:"RoleARN"`
}

// ScalingPolicy is the input of PutScalingPolicy.
type ScalingPolicy struct {
	PolicyName                               string                `json:"PolicyName"`
	ServiceNamespace                         string                `json:"ServiceNamespace"`
	ResourceId                               string                `json:"ResourceId"` //nolint:revive // the API's spelling
	ScalableDimension                        string                `json:"ScalableDimension"`
	PolicyType                               string                `json:"PolicyType"`
	TargetTrackingScalingPolicyConfiguration *TargetTrackingConfig `json:"TargetTrackingScalingPolicyConfiguration"`
	StepScalingPolicyConfiguration           map[string]any        `json:"StepScalingPolicyConfiguration"`
}

// TargetTrackingConfig is a target tracking policy's configuration.
type TargetTrackingConfig struct {
	TargetValue                   *float64          `json:"TargetValue"`
	PredefinedMetricSpecification *PredefinedMetric `json:"PredefinedMetricSpecification"`
	CustomizedMetricSpecification map[string]any    `json:"CustomizedMetricSpecification"`
	ScaleOutCooldown              *int              `json:"ScaleOutCooldown"`
	ScaleInCooldown               *int              `json:"ScaleInCooldown"`
	DisableScaleIn                *bool             `json:"DisableScaleIn"`
}

// PredefinedMetric names one of the metrics Application Auto Scaling
// knows, with the target group it counts for ALBRequestCountPerTarget.
type PredefinedMetric struct {
	PredefinedMetricType string `json:"PredefinedMetricType"`
	ResourceLabel        string `json:"ResourceLabel"`
}

// shape is what the walk knows of an object: its fields and, for each, the
// JSON type it takes and the shape below it.
type shape map[string]field

type field struct {
	kind string // object, string, integer, number, boolean, any
	sub  shape
}

var submissionShape = shape{
	"RegisterScalableTarget": {kind: "object", sub: shape{
		"ServiceNamespace": {kind: "string"}, "ResourceId": {kind: "string"}, "ScalableDimension": {kind: "string"},
		"MinCapacity": {kind: "integer"}, "MaxCapacity": {kind: "integer"}, "RoleARN": {kind: "string"},
	}},
	"PutScalingPolicy": {kind: "object", sub: shape{
		"PolicyName": {kind: "string"}, "ServiceNamespace": {kind: "string"}, "ResourceId": {kind: "string"},
		"ScalableDimension": {kind: "string"}, "PolicyType": {kind: "string"},
		"StepScalingPolicyConfiguration": {kind: "object"},
		"TargetTrackingScalingPolicyConfiguration": {kind: "object", sub: shape{
			"TargetValue": {kind: "number"},
			"PredefinedMetricSpecification": {kind: "object", sub: shape{
				"PredefinedMetricType": {kind: "string"}, "ResourceLabel": {kind: "string"},
			}},
			"CustomizedMetricSpecification": {kind: "object"},
			"ScaleOutCooldown":              {kind: "integer"},
			"ScaleInCooldown":               {kind: "integer"},
			"DisableScaleIn":                {kind: "boolean"},
		}},
	}},
}

// problem is one field of the answer its shape does not allow.
type problem struct {
	pointer, message string
}

// Parse reads a submission. Malformed JSON is an *grader.InputError; fields
// the APIs do not have, or values of the wrong type, are returned as
// problems (each with a JSON Pointer), because the CLI would refuse them
// and a misspelt optional field would otherwise silently not apply.
func Parse(body []byte) (*Submission, []problem, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, &grader.InputError{Message: "the answer is empty; start from the starter JSON"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, grader.JSONError(body, err)
	}
	if dec.More() {
		ie := &grader.InputError{Message: "unexpected text after the JSON object"}
		ie.Line, ie.Column = grader.LineColumn(body, dec.InputOffset())
		return nil, nil, ie
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, &grader.InputError{Message: "the answer must be a JSON object with RegisterScalableTarget and PutScalingPolicy"}
	}
	var probs []problem
	walk("", top, submissionShape, &probs)
	if len(probs) > 0 {
		return nil, probs, nil
	}
	var s Submission
	if err := json.Unmarshal(body, &s); err != nil {
		// The walk checked every type, so this is a value out of range,
		// such as an integer too large for the grader.
		return nil, []problem{{"", "the answer could not be read: " + err.Error()}}, nil
	}
	return &s, nil, nil
}

func walk(at string, obj map[string]any, sh shape, out *[]problem) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	known := make([]string, 0, len(sh))
	for k := range sh {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range keys {
		p := at + "/" + k
		f, ok := sh[k]
		if !ok {
			msg := fmt.Sprintf("%s has no field %q", where(at), k)
			if s := grader.Suggest(k, known); s != "" {
				msg += fmt.Sprintf(": did you mean %q? The API refuses a field it does not know", s)
			} else {
				msg += fmt.Sprintf(" (its fields are %s)", strings.Join(known, ", "))
			}
			*out = append(*out, problem{p, msg})
			continue
		}
		v := obj[k]
		if v == nil {
			continue
		}
		if msg := typeProblem(f.kind, v); msg != "" {
			*out = append(*out, problem{p, fmt.Sprintf("%s must be %s", k, msg)})
			continue
		}
		if f.sub != nil {
			walk(p, v.(map[string]any), f.sub, out)
		}
	}
}

func where(at string) string {
	if at == "" {
		return "the answer"
	}
	return strings.TrimPrefix(at, "/")
}

// typeProblem says what v should have been, or "" when it fits.
func typeProblem(kind string, v any) string {
	switch kind {
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return "an object, not " + describe(v)
		}
	case "string":
		if _, ok := v.(string); !ok {
			return "a string, not " + describe(v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "true or false, not " + describe(v)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return "a number, not " + describe(v)
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) {
			return "a number the API can hold, not " + n.String()
		}
		if kind == "integer" && (f != math.Trunc(f) || math.Abs(f) > 1<<31) {
			return "a whole number, not " + n.String()
		}
	}
	return ""
}

func describe(v any) string {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", grader.Clip(t))
	case json.Number:
		return "the number " + t.String()
	case bool:
		return fmt.Sprint(t)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "null"
}

package policy_test

import (
	"testing"

	"coldstart/exercises/labs/awssim/policy"
)

// The cases follow the IAM User Guide: "IAM JSON policy elements: Condition
// operators" (operators, missing keys, …IfExists, Null), "Conditions with
// multiple context keys or values" (AND across operators and keys, OR across
// values, NOR for negated operators) and "Single-valued vs. multivalued
// context keys" (ForAllValues, ForAnyValue).
func TestConditions(t *testing.T) {
	ecsCtx := func() policy.Context {
		return policy.Context{}.
			Set("aws:SourceAccount", "123456789012").
			Set("aws:SourceArn", "arn:aws:ecs:us-east-1:123456789012:task/default/0f6a3c5e").
			Set("aws:SecureTransport", "true")
	}
	tests := []struct {
		name      string
		condition string
		ctx       policy.Context
		want      policy.Outcome
	}{
		{"StringEqualsMatches", `{"StringEquals":{"aws:SourceAccount":"123456789012"}}`, ecsCtx(), policy.Allowed},
		{"StringEqualsIsCaseSensitive", `{"StringEquals":{"aws:SourceArn":"ARN:aws:ecs:us-east-1:123456789012:task/default/0f6a3c5e"}}`, ecsCtx(), policy.ImplicitDeny},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:ECS:us-east-1:123456789012:TASK/default/0F6A3C5E"}}`, ecsCtx(), policy.Allowed},
		{"StringEqualsOtherAccount", `{"StringEquals":{"aws:SourceAccount":"999999999999"}}`, ecsCtx(), policy.ImplicitDeny},
		{"ValuesAreORed", `{"StringEquals":{"aws:SourceAccount":["999999999999","123456789012"]}}`, ecsCtx(), policy.Allowed},
		{"KeyNamesAreCaseInsensitive", `{"StringEquals":{"AWS:sourceaccount":"123456789012"}}`, ecsCtx(), policy.Allowed},
		{"KeysAreANDed", `{"StringEquals":{"aws:SourceAccount":"123456789012","aws:PrincipalAccount":"123456789012"}}`, ecsCtx(), policy.ImplicitDeny},
		{"OperatorsAreANDed", `{"StringEquals":{"aws:SourceAccount":"123456789012"},"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:999999999999:*"}}`, ecsCtx(), policy.ImplicitDeny},
		{"StringLikeWildcards", `{"StringLike":{"aws:SourceArn":"arn:aws:ecs:*:123456789012:task/*"}}`, ecsCtx(), policy.Allowed},
		{"StringNotEqualsNORs", `{"StringNotEquals":{"aws:SourceAccount":["999999999999","123456789012"]}}`, ecsCtx(), policy.ImplicitDeny},
		{"StringNotEqualsOther", `{"StringNotEquals":{"aws:SourceAccount":"999999999999"}}`, ecsCtx(), policy.Allowed},
		{"NegatedOperatorMissingKeyIsTrue", `{"StringNotLike":{"aws:PrincipalAccount":"999999999999"}}`, ecsCtx(), policy.Allowed},
		{"MissingKeyIsFalse", `{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}`, ecsCtx(), policy.ImplicitDeny},
		{"IfExistsMissingKeyIsTrue", `{"StringEqualsIfExists":{"aws:PrincipalAccount":"999999999999"}}`, ecsCtx(), policy.Allowed},
		{"IfExistsPresentKeyIsChecked", `{"StringEqualsIfExists":{"aws:SourceAccount":"999999999999"}}`, ecsCtx(), policy.ImplicitDeny},
		{"ArnLikeAccountScope", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:123456789012:*"}}`, ecsCtx(), policy.Allowed},
		{"ArnEqualsWholeArn", `{"ArnEquals":{"aws:SourceArn":"arn:aws:ecs:us-east-1:123456789012:task/default/0f6a3c5e"}}`, ecsCtx(), policy.Allowed},
		{"ArnLikeChecksEachPart", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:*:task/other/*"}}`, ecsCtx(), policy.ImplicitDeny},
		{"ArnLikeStarDoesNotCrossParts", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*"}}`, ecsCtx(), policy.ImplicitDeny},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:999999999999:*"}}`, ecsCtx(), policy.Allowed},
		{"BoolTrue", `{"Bool":{"aws:SecureTransport":"true"}}`, ecsCtx(), policy.Allowed},
		{"BoolJSONBoolean", `{"Bool":{"aws:SecureTransport":true}}`, ecsCtx(), policy.Allowed},
		{"BoolFalse", `{"Bool":{"aws:SecureTransport":"false"}}`, ecsCtx(), policy.ImplicitDeny},
		{"NullTrueMeansAbsent", `{"Null":{"aws:PrincipalAccount":"true"}}`, ecsCtx(), policy.Allowed},
		{"NullFalseMeansPresent", `{"Null":{"aws:SourceAccount":"false"}}`, ecsCtx(), policy.Allowed},
		{"NullTrueButPresent", `{"Null":{"aws:SourceAccount":"true"}}`, ecsCtx(), policy.ImplicitDeny},
		{"PrincipalTagAbsent", `{"StringEquals":{"aws:PrincipalTag/team":"reports"}}`, ecsCtx(), policy.ImplicitDeny},
		{"ForAnyValueMatchesOne", `{"ForAnyValue:StringLike":{"s3:prefix":["daily/*"]}}`, policy.Context{}.Set("s3:prefix", "monthly/", "daily/2024"), policy.Allowed},
		{"ForAnyValueMissingIsFalse", `{"ForAnyValue:StringLike":{"s3:prefix":["daily/*"]}}`, policy.Context{}, policy.ImplicitDeny},
		{"ForAllValuesNeedsEvery", `{"ForAllValues:StringLike":{"s3:prefix":["daily/*"]}}`, policy.Context{}.Set("s3:prefix", "monthly/", "daily/2024"), policy.ImplicitDeny},
		{"ForAllValuesAllMatch", `{"ForAllValues:StringLike":{"s3:prefix":["daily/*","monthly/*"]}}`, policy.Context{}.Set("s3:prefix", "monthly/", "daily/2024"), policy.Allowed},
		{"ForAllValuesMissingIsTrue", `{"ForAllValues:StringEquals":{"s3:prefix":["daily/"]}}`, policy.Context{}, policy.Allowed},
		{"UnmodelledKeyIsNotEvaluated", `{"StringEquals":{"aws:SourceVpc":"vpc-111bbb22"}}`, ecsCtx(), policy.Conditional},
		{"UnknownOperatorIsNotEvaluated", `{"StringSortOf":{"aws:SourceAccount":"123456789012"}}`, ecsCtx(), policy.Conditional},
		{"PolicyVariableIsNotEvaluated", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, ecsCtx(), policy.Conditional},
		{"FalseConditionBeatsUnevaluatedOne", `{"StringEquals":{"aws:SourceVpc":"vpc-111bbb22","aws:SourceAccount":"999999999999"}}`, ecsCtx(), policy.ImplicitDeny},
		{"NumericLessThan", `{"NumericLessThan":{"aws:SourceAccount":"200000000000"}}`, ecsCtx(), policy.Allowed},
		{"NumericOnText", `{"NumericLessThan":{"aws:SourceAccount":"lots"}}`, ecsCtx(), policy.Conditional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":`+tt.condition+`}]}`)
			got := policy.Evaluate(policy.Request{Action: "sts:AssumeRole", Principal: policy.Principal{Type: "Service", ID: "ecs-tasks.amazonaws.com"}, Context: tt.ctx}, d)
			if got.Outcome != tt.want {
				t.Fatalf("%s: got %s, want %s (%+v)", tt.condition, got.Outcome, tt.want, got)
			}
			if got.Outcome == policy.Conditional && (len(got.NotEvaluated) == 0 || got.NotEvaluated[0].Why == "") {
				t.Errorf("a decision that was not evaluated must say why: %+v", got)
			}
		})
	}
}

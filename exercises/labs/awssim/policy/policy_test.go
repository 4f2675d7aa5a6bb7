package policy_test

import (
	"errors"
	"strings"
	"testing"

	"coldstart/exercises/labs/awssim/policy"
)

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		typ     policy.Type
		doc     string
		pointer string
		msg     string
	}{
		{"Missing", policy.Identity, ``, "", "missing"},
		{"NotAnObject", policy.Identity, `["Allow"]`, "", "JSON object"},
		{"BadVersion", policy.Identity, `{"Version":"2024-01-01","Statement":[]}`, "/Version", "2012-10-17"},
		{"NoStatement", policy.Identity, `{"Version":"2012-10-17"}`, "", "no Statement"},
		{"EmptyStatement", policy.Identity, `{"Version":"2012-10-17","Statement":[]}`, "/Statement", "at least one"},
		{"StatementIsNumber", policy.Identity, `{"Version":"2012-10-17","Statement":3}`, "/Statement", "statement object"},
		{"UnknownTopField", policy.Identity, `{"Version":"2012-10-17","Statements":[]}`, "/Statements", "unknown field"},
		{"UnknownStatementField", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"s3:GetObject","Resource":"*"}]}`, "/Statement/0/Actions", "case-sensitive"},
		{"LowercaseEffect", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}]}`, "/Statement/0/Effect", "\"Allow\" or \"Deny\""},
		{"NoEffect", policy.Identity, `{"Version":"2012-10-17","Statement":{"Action":"s3:GetObject","Resource":"*"}}`, "/Statement", "no Effect"},
		{"NoAction", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "/Statement/0", "no Action"},
		{"ActionAndNotAction", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}`, "/Statement/0", "not both"},
		{"ActionWithoutService", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, "/Statement/0/Action", "service:action"},
		{"ActionShellCommand", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:$(rm -rf /)"],"Resource":"*"}]}`, "/Statement/0/Action/1", "letters, digits"},
		{"ActionNotString", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject",7],"Resource":"*"}]}`, "/Statement/0/Action/1", "must be a string"},
		{"EmptyActionList", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "/Statement/0/Action", "empty list"},
		{"NoResource", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`, "/Statement/0", "no Resource"},
		{"ResourceNotARN", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"reports-bucket/daily/*"}]}`, "/Statement/0/Resource", "must be an ARN"},
		{"PrincipalInPermissionPolicy", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, "/Statement/0/Principal", "must not name a Principal"},
		{"ConditionNotObject", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":"yes"}]}`, "/Statement/0/Condition", "object of operators"},
		{"ResourceInTrustPolicy", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}`, "/Statement/0/Resource", "must not have Resource"},
		{"TrustWithoutPrincipal", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "/Statement/0", "must name a Principal"},
		{"PrincipalBadType", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Services":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "/Statement/0/Principal/Services", "unknown principal type"},
		{"PrincipalString", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"ecs-tasks.amazonaws.com","Action":"sts:AssumeRole"}]}`, "/Statement/0/Principal", "must be \"*\" or an object"},
		{"NotPrincipalInTrustPolicy", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "/Statement/0/NotPrincipal", "must not use NotPrincipal"},
		// IAM User Guide, "IAM JSON policy elements: Sid".
		{"SidWithSpace", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"read reports","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, "/Statement/0/Sid", "ASCII letters"},
		{"SidWithUnderscore", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"Read_Reports","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, "/Statement/0/Sid", "ASCII letters"},
		{"SidsNotUnique", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"Read","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`, "/Statement/1/Sid", "The Statement Ids in the policy are not unique"},
		// IAM User Guide, "IAM JSON policy elements: Condition".
		{"ConditionKeyNotObject", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":"aws:SecureTransport"}}]}`, "/Statement/0/Condition/Bool", "must map condition keys"},
		{"ConditionValueObject", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":{"a":1}}}}]}`, "/Statement/0/Condition/StringEquals/aws:SourceAccount", "a condition value must be"},
		{"ConditionEmptyValues", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":[]}}}]}`, "/Statement/0/Condition/StringEquals/aws:SourceAccount", "empty list"},
		// IAM User Guide, "AWS JSON policy elements: Principal".
		{"AWSPrincipalNotAnAccount", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"my-account"},"Action":"sts:AssumeRole"}]}`, "/Statement/0/Principal/AWS", "Invalid principal in policy"},
		{"PrincipalWildcard", policy.Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "/Statement/0/Principal/Service", "wildcards are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(tt.doc), tt.typ)
			var pe *policy.Error
			if !errors.As(err, &pe) {
				t.Fatalf("want a *policy.Error, got %v", err)
			}
			if pe.Pointer != tt.pointer || !strings.Contains(pe.Message, tt.msg) {
				t.Fatalf("got %q at %q, want %q at %q", pe.Message, pe.Pointer, tt.msg, tt.pointer)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	d, err := policy.Parse([]byte(`{
		"Version": "2012-10-17",
		"Id": "reports",
		"Statement": {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports-bucket/daily/*"}
	}`), policy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Statements) != 1 || d.Statements[0].Pointer != "/Statement" || d.Statements[0].Sid != "Read" {
		t.Fatalf("statement: %+v", d.Statements)
	}
	tr, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`), policy.Trust)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Statements[0].Principal.ByType["Service"]; len(got) != 1 || got[0] != "ecs-tasks.amazonaws.com" {
		t.Fatalf("principal: %+v", tr.Statements[0].Principal)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","Condition":{"Bool":{}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []policy.Type{policy.Identity, policy.Trust} {
			d, err := policy.Parse(data, typ)
			if err == nil {
				policy.Evaluate(policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: policy.Principal{Type: "Service", ID: "ecs-tasks.amazonaws.com"}}, d)
			}
		}
	})
}

package policy_test

import (
	"testing"

	"coldstart/exercises/labs/awssim/policy"
)

func mustParse(tb testing.TB, t policy.Type, doc string) *policy.Document {
	tb.Helper()
	d, err := policy.Parse([]byte(doc), t)
	if err != nil {
		tb.Fatalf("parse %s: %v", doc, err)
	}
	return d
}

const (
	daily   = "arn:aws:s3:::reports-bucket/daily/2024-05-01.csv"
	monthly = "arn:aws:s3:::reports-bucket/monthly/2024-04.csv"
	other   = "arn:aws:s3:::billing-exports/2024-05.csv"
)

// The cases follow AWS's policy evaluation logic for identity policies in a
// single account: default deny, an Allow is needed, an explicit Deny in any
// policy overrides every Allow.
func TestEvaluateIdentity(t *testing.T) {
	tests := []struct {
		name     string
		docs     []string
		action   string
		resource string
		want     policy.Outcome
	}{
		{"NoStatementMatchesIsImplicitDeny",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"NoPoliciesIsImplicitDeny", nil, "s3:GetObject", daily, policy.ImplicitDeny},
		{"MatchingAllowAllows",
			[]string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports-bucket/daily/*"}}`},
			"s3:GetObject", daily, policy.Allowed},
		{"ExplicitDenyOverridesAllow",
			[]string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:*","Resource":"*"},
				{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`},
			"s3:PutObject", daily, policy.ExplicitDeny},
		{"DenyOfAnotherActionLeavesAllow",
			[]string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:*","Resource":"*"},
				{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`},
			"s3:GetObject", daily, policy.Allowed},
		{"DenyInAnotherPolicyWins",
			[]string{
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`},
			"iam:CreateUser", "arn:aws:iam::123456789012:user/x", policy.ExplicitDeny},
		{"StarActionAllowsEverything",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
			"ec2:TerminateInstances", "*", policy.Allowed},
		{"ServiceWildcard",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`},
			"s3:GetObject", other, policy.Allowed},
		{"ServiceWildcardDoesNotCoverOtherVerbs",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`},
			"s3:PutObject", daily, policy.ImplicitDeny},
		{"QuestionMarkIsOneCharacter",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:?etObject","Resource":"*"}]}`},
			"s3:GetObject", daily, policy.Allowed},
		{"QuestionMarkIsNotTwoCharacters",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:?Object","Resource":"*"}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"ActionsAreCaseInsensitive",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}]}`},
			"s3:GetObject", daily, policy.Allowed},
		{"ResourcesAreCaseSensitive",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::Reports-Bucket/daily/*"}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"ResourceStarCrossesSlashes",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports-bucket/daily/*"}]}`},
			"s3:GetObject", "arn:aws:s3:::reports-bucket/daily/eu/2024-05-01.csv", policy.Allowed},
		{"PrefixDoesNotMatchSiblingFolder",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports-bucket/daily/*"}]}`},
			"s3:GetObject", monthly, policy.ImplicitDeny},
		{"BucketWildcardReachesOtherBuckets",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports-bucket*"}]}`},
			"s3:GetObject", "arn:aws:s3:::reports-bucket-archive/daily/x.csv", policy.Allowed},
		{"ListOfActions",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`},
			"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api-worker:log-stream:x", policy.Allowed},
		{"NotActionAllowsTheRest",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`},
			"s3:PutObject", daily, policy.Allowed},
		{"NotActionExcludesItsList",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`},
			"iam:CreateUser", "*", policy.ImplicitDeny},
		{"NotResourceAllowsOtherResources",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::reports-bucket/*"}]}`},
			"s3:GetObject", other, policy.Allowed},
		{"NotResourceExcludesItsList",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::reports-bucket/*"}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"DenyWithNotResourceFencesAllow",
			[]string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
				{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::reports-bucket/daily/*"}]}`},
			"s3:GetObject", other, policy.ExplicitDeny},
		{"AllowOnUnmodelledKeyIsNotEvaluated",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`},
			"s3:GetObject", daily, policy.Conditional},
		{"AllowOnMissingModelledKeyIsDenied",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"ConditionalDenyOverUnconditionalAllow",
			[]string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
				{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`},
			"s3:GetObject", daily, policy.Conditional},
		{"ConditionalDenyWithoutAllowIsStillDenied",
			[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`},
			"s3:GetObject", daily, policy.ImplicitDeny},
		{"UnconditionalDenyBeatsConditionalAllow",
			[]string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
				{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`},
			"s3:PutObject", daily, policy.ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var docs []*policy.Document
			for _, d := range tt.docs {
				docs = append(docs, mustParse(t, policy.Identity, d))
			}
			got := policy.Evaluate(policy.Request{Action: tt.action, Resource: tt.resource}, docs...)
			if got.Outcome != tt.want {
				t.Fatalf("%s on %s: got %s, want %s (%+v)", tt.action, tt.resource, got.Outcome, tt.want, got)
			}
			if got.Outcome == policy.Conditional && len(got.NotEvaluated) == 0 {
				t.Errorf("a conditional decision must name the statements it did not evaluate")
			}
		})
	}
}

func TestEvaluateReportsStatements(t *testing.T) {
	d := mustParse(t, policy.Identity, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Action":"s3:*","Resource":"*"},
		{"Sid":"NoWrites","Effect":"Deny","Action":"s3:Put*","Resource":"*"},
		{"Sid":"OnlyTls","Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`)
	got := policy.Evaluate(policy.Request{Action: "s3:PutObject", Resource: daily}, d)
	if got.Outcome != policy.ExplicitDeny || len(got.Deciding) != 1 || got.Deciding[0].Pointer != "/Statement/1" || got.Deciding[0].Sid != "NoWrites" {
		t.Fatalf("deciding statements: %+v", got)
	}
	if len(got.NotEvaluated) != 1 || got.NotEvaluated[0].Sid != "OnlyTls" {
		t.Fatalf("not evaluated: %+v", got.NotEvaluated)
	}
}

func TestEvaluateTrust(t *testing.T) {
	ecsTasks := policy.Principal{Type: "Service", ID: "ecs-tasks.amazonaws.com"}
	tests := []struct {
		name string
		doc  string
		who  policy.Principal
		want policy.Outcome
	}{
		{"ServicePrincipal",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			ecsTasks, policy.Allowed},
		{"ServiceInList",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`,
			ecsTasks, policy.Allowed},
		{"OtherServiceDenied",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			ecsTasks, policy.ImplicitDeny},
		{"WrongActionDenied",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
			ecsTasks, policy.ImplicitDeny},
		{"AnyoneMatchesStar",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
			policy.Principal{Type: "AWS", ID: "arn:aws:iam::999999999999:root"}, policy.Allowed},
		{"AccountIDIsItsRoot",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole"}]}`,
			policy.Principal{Type: "AWS", ID: "arn:aws:iam::999999999999:root"}, policy.Allowed},
		{"DenyPrincipalWins",
			`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
				{"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:*"}]}`,
			ecsTasks, policy.ExplicitDeny},
		{"AccountIDCoversItsRoles",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`,
			policy.Principal{Type: "AWS", ID: "arn:aws:iam::999999999999:role/ci"}, policy.Allowed},
		{"RoleARNIsOnlyThatRole",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:role/ci"},"Action":"sts:AssumeRole"}]}`,
			policy.Principal{Type: "AWS", ID: "arn:aws:iam::999999999999:role/other"}, policy.ImplicitDeny},
		{"AWSStarIsEveryone",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
			ecsTasks, policy.Allowed},
		{"FederatedProvider",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
			policy.Principal{Type: "Federated", ID: "cognito-identity.amazonaws.com"}, policy.ImplicitDeny},
		{"SourceAccountConditionWithoutContextDenies",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`,
			ecsTasks, policy.ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, policy.Trust, tt.doc)
			got := policy.Evaluate(policy.Request{Action: "sts:AssumeRole", Principal: tt.who}, d)
			if got.Outcome != tt.want {
				t.Fatalf("got %s, want %s", got.Outcome, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"", "", true},
		{"", "x", false},
		{"a*b", "ab", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true},
		{"*daily/*", "arn:aws:s3:::reports-bucket/daily/x", true},
		{"a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, tt := range tests {
		if got := policy.Match(tt.pattern, tt.value); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	d := mustParse(b, policy.Identity, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"],"Resource":"*"},
		{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api-worker:*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-AbCdEf"}]}`)
	req := policy.Request{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api-worker:log-stream:ecs/api-worker/1"}
	for b.Loop() {
		policy.Evaluate(req, d)
	}
}

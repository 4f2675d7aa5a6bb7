package policy_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"coldstart/exercises/labs/awssim/policy"
)

// The property tests compare the evaluator with a brute-force evaluation
// written independently from the rules of the IAM User Guide ("Policy
// evaluation logic", "IAM JSON policy elements: Condition operators",
// "Single-valued vs. multivalued context keys"): wildcards through regular
// expressions, each statement decided on its own, the conditions by their
// definitions over sets of values.

var (
	propActions  = []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "ecr:BatchGetImage", "iam:CreateUser", "logs:PutLogEvents"}
	propActPats  = []string{"*", "s3:*", "s3:Get*", "s3:?etObject", "S3:getobject", "s3:*Object", "ecr:*", "iam:Create*", "logs:Put??gEvents", "s3:List*"}
	propRes      = []string{"arn:aws:s3:::b/k1", "arn:aws:s3:::b/d/k2", "arn:aws:s3:::c/k1", "arn:aws:s3:::b", "arn:aws:s3:::bb/k1", "arn:aws:iam::123456789012:user/x", "*"}
	propResPats  = []string{"*", "arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:s3:::?/k1", "arn:aws:s3:::b*", "arn:aws:s3:::b", "arn:aws:iam::*:user/*", "arn:aws:s3:::b/*/k?"}
	propOps      = []string{"StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase", "StringEqualsIfExists", "StringNotEqualsIfExists", "ArnLike", "ArnNotLike", "ArnEquals", "Bool", "Null", "ForAnyValue:StringEquals", "ForAllValues:StringLike", "ForAnyValue:StringNotLike", "ForAllValues:StringNotEquals", "StringFancy"}
	propKeys     = []string{"aws:SourceAccount", "aws:PrincipalAccount", "aws:SecureTransport", "s3:prefix", "aws:SourceArn", "aws:SourceVpc"}
	propValues   = []string{"123456789012", "999999999999", "1234*", "true", "false", "daily/", "daily/*", "arn:aws:ecs:us-east-1:123456789012:task/*", "arn:aws:ecs:*:123456789012:*", "TRUE"}
	propCtxValue = map[string][]string{
		"aws:SourceAccount":    {"123456789012", "999999999999"},
		"aws:PrincipalAccount": {"123456789012", "999999999999"},
		"aws:SecureTransport":  {"true", "false"},
		"s3:prefix":            {"daily/", "monthly/", "daily/2024"},
		"aws:SourceArn":        {"arn:aws:ecs:us-east-1:123456789012:task/default/1", "arn:aws:ecs:us-east-1:999999999999:task/default/1"},
		"aws:SourceVpc":        {"vpc-1"},
	}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func picks[T any](r *rand.Rand, list []T, most int) []T {
	n := 1 + r.IntN(most)
	out := make([]T, n)
	for i := range out {
		out[i] = pick(r, list)
	}
	return out
}

// randomPolicy is a permission policy as JSON, of 1 to 4 statements.
func randomPolicy(r *rand.Rand) string {
	var stmts []map[string]any
	for range 1 + r.IntN(4) {
		s := map[string]any{"Effect": pick(r, []string{"Allow", "Allow", "Deny"})}
		if r.IntN(4) == 0 {
			s["NotAction"] = picks(r, propActPats, 2)
		} else {
			s["Action"] = picks(r, propActPats, 3)
		}
		if r.IntN(4) == 0 {
			s["NotResource"] = picks(r, propResPats, 2)
		} else {
			s["Resource"] = picks(r, propResPats, 3)
		}
		if r.IntN(2) == 0 {
			cond := map[string]map[string]any{}
			for range 1 + r.IntN(2) {
				op := pick(r, propOps)
				if cond[op] == nil {
					cond[op] = map[string]any{}
				}
				if op == "Null" {
					cond[op][pick(r, propKeys)] = pick(r, []string{"true", "false"})
				} else {
					cond[op][pick(r, propKeys)] = picks(r, propValues, 2)
				}
			}
			s["Condition"] = cond
		}
		stmts = append(stmts, s)
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b)
}

func randomContext(r *rand.Rand) policy.Context {
	ctx := policy.Context{}
	for k, vals := range propCtxValue {
		if r.IntN(3) == 0 {
			continue
		}
		if k == "s3:prefix" {
			ctx.Set(k, picks(r, vals, 2)...)
		} else {
			ctx.Set(k, pick(r, vals))
		}
	}
	return ctx
}

// globRE is a wildcard pattern as a regular expression: * any run, ? one
// character.
func globRE(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

type tri int

const (
	no tri = iota
	yes
	notEvaluated
)

// bruteCondition decides one condition from its definition.
func bruteCondition(op, key string, want []string, ctx policy.Context) tri {
	modelled := map[string]bool{"aws:sourceaccount": true, "aws:principalaccount": true, "aws:securetransport": true, "s3:prefix": true, "aws:sourcearn": true}
	if !modelled[strings.ToLower(key)] {
		return notEvaluated
	}
	got, present := ctx.Values(key)
	set := ""
	if strings.HasPrefix(op, "ForAnyValue:") || strings.HasPrefix(op, "ForAllValues:") {
		set, op, _ = strings.Cut(op, ":")
	}
	if op == "Null" {
		isNull := want[0] == "true"
		if isNull != !present {
			return no
		}
		return yes
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	var equal func(got, want string) bool
	negate := false
	switch op {
	case "StringEquals", "StringNotEquals":
		equal = func(g, w string) bool { return g == w }
		negate = op == "StringNotEquals"
	case "StringEqualsIgnoreCase":
		equal = strings.EqualFold
	case "StringLike", "StringNotLike":
		equal = func(g, w string) bool { return globRE(w, false).MatchString(g) }
		negate = op == "StringNotLike"
	case "ArnLike", "ArnEquals", "ArnNotLike":
		equal = func(g, w string) bool {
			gp, wp := strings.SplitN(g, ":", 6), strings.SplitN(w, ":", 6)
			if len(gp) != 6 || len(wp) != 6 {
				return false
			}
			for i := range gp {
				if !globRE(wp[i], false).MatchString(gp[i]) {
					return false
				}
			}
			return true
		}
		negate = op == "ArnNotLike"
	case "Bool":
		equal = strings.EqualFold
	default:
		return notEvaluated
	}
	// One request value against the policy's values: OR, or NOR when
	// negated.
	oneValue := func(g string) bool {
		any := slices.ContainsFunc(want, func(w string) bool { return equal(g, w) })
		return any != negate
	}
	switch {
	case !present && set == "ForAllValues":
		return yes
	case !present && set == "ForAnyValue":
		if ifExists {
			return yes
		}
		return no
	case !present:
		if ifExists || negate {
			return yes
		}
		return no
	case set == "ForAllValues":
		for _, g := range got {
			if !oneValue(g) {
				return no
			}
		}
		return yes
	default:
		for _, g := range got {
			if oneValue(g) {
				return yes
			}
		}
		return no
	}
}

type bruteStatement struct {
	Effect      string
	Action      any
	NotAction   any
	Resource    any
	NotResource any
	Condition   map[string]map[string]any
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// bruteEvaluate decides a request from the policy's JSON.
func bruteEvaluate(doc, action, resource string, ctx policy.Context) policy.Outcome {
	var d struct{ Statement []bruteStatement }
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		panic(err)
	}
	anyMatch := func(patterns []string, v string, fold bool) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { return globRE(p, fold).MatchString(v) })
	}
	var denyYes, denyMaybe, allowYes, allowMaybe bool
	for _, s := range d.Statement {
		if s.Action != nil && !anyMatch(list(s.Action), action, true) ||
			s.NotAction != nil && anyMatch(list(s.NotAction), action, true) ||
			s.Resource != nil && !anyMatch(list(s.Resource), resource, false) ||
			s.NotResource != nil && anyMatch(list(s.NotResource), resource, false) {
			continue
		}
		applies := yes
		for op, keys := range s.Condition {
			for key, v := range keys {
				switch bruteCondition(op, key, list(v), ctx) {
				case no:
					applies = no
				case notEvaluated:
					if applies == yes {
						applies = notEvaluated
					}
				}
			}
		}
		switch {
		case applies == no:
		case s.Effect == "Deny" && applies == yes:
			denyYes = true
		case s.Effect == "Deny":
			denyMaybe = true
		case applies == yes:
			allowYes = true
		default:
			allowMaybe = true
		}
	}
	switch {
	case denyYes:
		return policy.ExplicitDeny
	case allowYes && !denyMaybe:
		return policy.Allowed
	case !allowYes && !allowMaybe:
		return policy.ImplicitDeny
	}
	return policy.Conditional
}

func TestEvaluateMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 2026))
	counts := map[policy.Outcome]int{}
	for i := range 3000 {
		doc := randomPolicy(r)
		d, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			t.Fatalf("policy %d does not parse: %v\n%s", i, err, doc)
		}
		for range 8 {
			action, resource, ctx := pick(r, propActions), pick(r, propRes), randomContext(r)
			got := policy.Evaluate(policy.Request{Action: action, Resource: resource, Context: ctx}, d).Outcome
			want := bruteEvaluate(doc, action, resource, ctx)
			counts[want]++
			if got != want {
				t.Fatalf("%s on %s with %v:\nevaluator %s, brute force %s\n%s", action, resource, ctx, got, want, doc)
			}
		}
	}
	// The random policies must reach every outcome, or the test proves
	// little.
	for _, o := range []policy.Outcome{policy.Allowed, policy.ExplicitDeny, policy.ImplicitDeny, policy.Conditional} {
		if counts[o] < 100 {
			t.Errorf("only %d requests came out %s: %v", counts[o], o, counts)
		}
	}
}

// TestSweepMatchesEvaluate checks that a sweep reports exactly the requests
// Evaluate does not deny, with the same outcome and deciding statement.
func TestSweepMatchesEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2026))
	items := make([]policy.SweepItem, len(propActions))
	for i, a := range propActions {
		items[i] = policy.SweepItem{Action: a, Resources: [][]string{propRes[:3], propRes[3:]}}
	}
	for i := range 2000 {
		doc := randomPolicy(r)
		d, err := policy.Parse([]byte(doc), policy.Identity)
		if err != nil {
			t.Fatalf("policy %d does not parse: %v", i, err)
		}
		ctx := randomContext(r)
		var want []policy.Grant
		for item, it := range items {
			for gi, group := range it.Resources {
				for _, res := range group {
					dec := policy.Evaluate(policy.Request{Action: it.Action, Resource: res, Context: ctx}, d)
					if dec.Denied() {
						continue
					}
					g := policy.Grant{Action: it.Action, Resource: res, Item: item, Group: gi, Outcome: dec.Outcome,
						By: policy.Ref{Pointer: dec.Deciding[0].Pointer, Sid: dec.Deciding[0].Sid}}
					if dec.Outcome == policy.Conditional {
						g.By.Why = dec.NotEvaluated[0].Why
					}
					want = append(want, g)
				}
			}
		}
		var got []policy.Grant
		policy.Sweep(d, ctx, items, func(g policy.Grant) { got = append(got, g) })
		if !slices.Equal(got, want) {
			t.Fatalf("sweep and Evaluate differ with %v:\nsweep    %+v\nevaluate %+v\n%s", ctx, got, want, doc)
		}
	}
}

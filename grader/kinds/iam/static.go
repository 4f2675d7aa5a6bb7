package iam

import (
	"errors"
	"fmt"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
	"coldstart/grader"
)

// Static check ids.
const (
	checkDocuments      = "iam.documents"
	checkTrust          = "iam.trust"
	checkExecutionAllow = "iam.execution-allows"
	checkExecutionLeast = "iam.execution-least-privilege"
	checkTaskAllow      = "iam.task-allows"
	checkTaskLeast      = "iam.task-least-privilege"
)

// problem is one finding of a check, with the field it is about.
type problem struct {
	msg   string
	field string
}

func docField(side roleSide, which string) string { return "/" + side.key + "/" + which }

// statementField points at the Action (or NotAction) of the statement a
// decision names, so the page can show the line to change.
func statementField(side roleSide, which string, doc *policy.Document, ref policy.Ref) string {
	base := docField(side, which) + ref.Pointer
	for _, s := range doc.Statements {
		if s.Pointer == ref.Pointer {
			if s.NotAction != nil {
				return base + "/NotAction"
			}
			return base + "/Action"
		}
	}
	return base
}

func refName(doc *policy.Document, ref policy.Ref) string {
	name := "the statement at " + ref.Pointer
	if ref.Sid != "" {
		name += fmt.Sprintf(" (Sid %q)", ref.Sid)
	}
	return name
}

// staticChecks records the checks decided by evaluating the documents.
func staticChecks(sc *Scenario, p *parsed) []grader.Check {
	return []grader.Check{
		documentsCheck(p),
		trustCheck(sc, p),
		allowCheck(checkExecutionAllow, "The execution role lets the agent pull the image, read the secret and write logs",
			2, executionSide, p, sc.agentNeeds(),
			"The agent needs the ECR pull set (ecr:GetAuthorizationToken on \"*\", ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer, ecr:BatchGetImage), logs:CreateLogStream and logs:PutLogEvents on the log group, and secretsmanager:GetSecretValue on the secret."),
		denyCheck(checkExecutionLeast, "The execution role allows nothing more: no S3, no other secrets, no writes, no IAM",
			2, executionSide, p, sc.executionMustDeny(),
			"List the exact actions the agent calls and scope each to its resource: the repository ARN, the log group, the one secret. Never \"*\" as an action."),
		allowCheck(checkTaskAllow, "The task role lets the app read the daily reports",
			1, taskSide, p, sc.appNeeds(),
			"Allow s3:GetObject on the object ARN arn:aws:s3:::reports-bucket/daily/* (an object ARN has the bucket, a slash and the key)."),
		denyCheck(checkTaskLeast, "The task role allows nothing more: no writes, no other buckets, nothing the agent needs",
			2, taskSide, p, sc.taskMustDeny(),
			"The app only reads: one action (s3:GetObject) on one prefix. Pulling the image, fetching the secret and writing logs belong to the execution role."),
	}
}

func documentsCheck(p *parsed) grader.Check {
	c := grader.Check{ID: checkDocuments, Title: "All four policy documents are valid IAM policies", Phase: grader.PhaseStatic, MaxPoints: 1}
	var msgs []string
	for _, side := range []roleSide{executionSide, taskSide} {
		for _, which := range []string{"trustPolicy", "permissionPolicy"} {
			err := p.errs[side.key+"/"+which]
			if err == nil {
				continue
			}
			field := docField(side, which)
			var pe *policy.Error
			msg := err.Error()
			if errors.As(err, &pe) {
				field += pe.Pointer
				msg = pe.Message
			}
			if c.Field == "" {
				c.Field = field
			}
			msgs = append(msgs, fmt.Sprintf("%s %s: %s", side.label, which, msg))
		}
	}
	if len(msgs) == 0 {
		c.Status, c.Points = grader.CheckPass, 1
		c.Message = "IAM would accept all four documents"
		return c
	}
	c.Status = grader.CheckFail
	c.Message = "IAM would reject the " + strings.Join(msgs, "; the ")
	c.Hint = "Each document is {\"Version\": \"2012-10-17\", \"Statement\": [ … ]}; a permission policy's statements have Effect, Action and Resource, a trust policy's have Effect, Principal and Action."
	return c
}

// describeMissing says why a request that must be allowed is not.
func describeMissing(doc *policy.Document, d policy.Decision) string {
	switch d.Outcome {
	case policy.ExplicitDeny:
		return "explicitly denied by " + refName(doc, d.Deciding[0])
	case policy.Conditional:
		return "allowed only under the Condition of " + refName(doc, d.NotEvaluated[0]) + ", which the grader does not evaluate: grant it without a Condition"
	}
	return "no statement allows it"
}

func trustCheck(sc *Scenario, p *parsed) grader.Check {
	c := grader.Check{ID: checkTrust, Title: "Both roles trust " + sc.Service + " (sts:AssumeRole), and no one else",
		Phase: grader.PhaseStatic, MaxPoints: 2}
	untrusted, _ := sc.untrusted()
	var probs []problem
	evaluated := 0
	for _, side := range []roleSide{executionSide, taskSide} {
		doc := p.doc(side, "trustPolicy")
		if doc == nil {
			probs = append(probs, problem{fmt.Sprintf("the %s's trust policy is not valid, so it cannot be evaluated", side.label), docField(side, "trustPolicy")})
			continue
		}
		evaluated++
		before := len(probs)
		req := policy.Request{Action: "sts:AssumeRole", Principal: policy.Principal{Type: "Service", ID: sc.Service}}
		if d := policy.Evaluate(req, doc); !d.Allowed() {
			probs = append(probs, problem{fmt.Sprintf("%s cannot assume the %s: %s", sc.Service, side.label, describeMissing(doc, d)),
				docField(side, "trustPolicy") + "/Statement"})
		}
		for _, who := range untrusted {
			req := policy.Request{Action: "sts:AssumeRole", Principal: who}
			d := policy.Evaluate(req, doc)
			if d.Denied() {
				continue
			}
			verb := "can assume"
			if d.Outcome == policy.Conditional {
				verb = "may assume (under a Condition the grader does not evaluate)"
			}
			probs = append(probs, problem{fmt.Sprintf("%s %s the %s, through %s", who.ID, verb, side.label, refName(doc, d.Deciding[0])),
				docField(side, "trustPolicy") + d.Deciding[0].Pointer + "/Principal"})
		}
		if len(probs) == before {
			c.Points++
		}
	}
	switch {
	case evaluated == 0:
		c.Status, c.Message = grader.CheckSkip, "neither trust policy is valid, so neither could be evaluated"
	case len(probs) == 0:
		c.Status = grader.CheckPass
		c.Message = fmt.Sprintf("both roles let %s assume them, and none of %s can", sc.Service, strings.Join(sc.UntrustedPrincipals, ", "))
	default:
		c.Status = grader.CheckFail
		c.Field = probs[0].field
		c.Message = joinProblems(probs)
		c.Expected = fmt.Sprintf("{\"Effect\": \"Allow\", \"Principal\": {\"Service\": %q}, \"Action\": \"sts:AssumeRole\"}", sc.Service)
		c.Hint = "Fargate tasks get their roles through the ECS tasks service: both trust policies name the service principal " + sc.Service + ", not ecs.amazonaws.com, not an account, not \"*\"."
	}
	return c
}

func allowCheck(id, title string, points float64, side roleSide, p *parsed, needs []need, hint string) grader.Check {
	c := grader.Check{ID: id, Title: title, Phase: grader.PhaseStatic, MaxPoints: points}
	doc := p.doc(side, "permissionPolicy")
	if doc == nil {
		return skipInvalidPolicy(c, side)
	}
	var probs []problem
	var missing []string
	for _, n := range needs {
		d := policy.Evaluate(n.Request, doc)
		if d.Allowed() {
			continue
		}
		missing = append(missing, n.Action)
		probs = append(probs, problem{fmt.Sprintf("%s is needed %s, but %s", n, n.Why, describeMissing(doc, d)), docField(side, "permissionPolicy") + "/Statement"})
	}
	if len(probs) == 0 {
		c.Status, c.Points = grader.CheckPass, points
		c.Message = fmt.Sprintf("the %s allows every call it is needed for (%d): %s", side.label, len(needs), actions(needs))
		return c
	}
	c.Status = grader.CheckFail
	c.Field = probs[0].field
	c.Message = fmt.Sprintf("the %s is missing %d of %d permissions: %s", side.label, len(probs), len(needs), joinProblems(probs))
	c.Observed = "not allowed: " + strings.Join(missing, ", ")
	c.Expected = "allowed: " + actions(needs)
	c.Hint = hint
	return c
}

func denyCheck(id, title string, points float64, side roleSide, p *parsed, needs []need, hint string) grader.Check {
	c := grader.Check{ID: id, Title: title, Phase: grader.PhaseStatic, MaxPoints: points}
	doc := p.doc(side, "permissionPolicy")
	if doc == nil {
		return skipInvalidPolicy(c, side)
	}
	var probs []problem
	var allowed []string
	for _, n := range needs {
		d := policy.Evaluate(n.Request, doc)
		if d.Denied() {
			continue
		}
		verb := "is allowed by"
		if d.Outcome == policy.Conditional {
			verb = "may be allowed (under a Condition the grader does not evaluate) by"
		}
		allowed = append(allowed, n.String())
		probs = append(probs, problem{fmt.Sprintf("%s %s %s, but %s", n, verb, refName(doc, d.Deciding[0]), n.Why),
			statementField(side, "permissionPolicy", doc, d.Deciding[0])})
	}
	if len(probs) == 0 {
		c.Status, c.Points = grader.CheckPass, points
		c.Message = fmt.Sprintf("the %s refuses every one of the %d requests it has no business making (%s…)", side.label, len(needs), needs[0])
		return c
	}
	c.Status = grader.CheckFail
	c.Field = probs[0].field
	c.Message = fmt.Sprintf("the %s allows %d of the %d requests it must refuse: %s", side.label, len(probs), len(needs), joinProblems(probs))
	c.Observed = "allowed: " + strings.Join(first(allowed, 3), "; ")
	c.Expected = "denied"
	c.Hint = hint
	return c
}

func actions(needs []need) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range needs {
		if !seen[n.Action] {
			seen[n.Action] = true
			out = append(out, n.Action)
		}
	}
	return strings.Join(out, ", ")
}

func joinProblems(probs []problem) string {
	msgs := make([]string, 0, len(probs))
	for _, p := range probs {
		msgs = append(msgs, p.msg)
	}
	s := strings.Join(first(msgs, 3), "; ")
	if len(msgs) > 3 {
		s += fmt.Sprintf("; and %d more", len(msgs)-3)
	}
	return s
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// skipInvalidPolicy records that a role's permission policy could not be
// evaluated: the documents check already says what is wrong with it.
func skipInvalidPolicy(c grader.Check, side roleSide) grader.Check {
	c.Status = grader.CheckSkip
	c.Message = fmt.Sprintf("the %s's permission policy is not valid, so it could not be evaluated", side.label)
	c.Field = docField(side, "permissionPolicy")
	return c
}

package iam

import (
	"errors"
	"fmt"
	"slices"
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
	cat, catErr := policy.LoadCatalog()
	var plan *sweepPlan
	if catErr == nil {
		plan = sc.newSweepPlan(cat)
	}
	checks := []grader.Check{
		documentsCheck(p),
		trustCheck(sc, p),
		allowCheck(checkExecutionAllow, "The execution role lets the agent pull the image, read the secret and write logs",
			2, executionSide, p, sc.agentNeeds(),
			"The agent needs the ECR pull set (ecr:GetAuthorizationToken on \"*\", ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer, ecr:BatchGetImage), logs:CreateLogStream and logs:PutLogEvents on the log group, and secretsmanager:GetSecretValue on the secret."),
		leastPrivilegeCheck(checkExecutionLeast, "The execution role allows nothing more than the agent's calls",
			2, executionSide, sc, p, plan, catErr, sc.agentNeeds(),
			"List the exact actions the agent calls and scope each to its resource: the repository ARN, the log group, the one secret. Never \"*\" as an action."),
		allowCheck(checkTaskAllow, "The task role lets the app read the daily reports",
			1, taskSide, p, sc.appNeeds(),
			"Allow s3:GetObject on the object ARN arn:aws:s3:::reports-bucket/daily/* (an object ARN has the bucket, a slash and the key)."),
		leastPrivilegeCheck(checkTaskLeast, "The task role allows nothing more than the app's reads",
			2, taskSide, sc, p, plan, catErr, sc.appScope(),
			"The app only reads: one action (s3:GetObject) on one prefix. Pulling the image, fetching the secret and writing logs belong to the execution role."),
	}
	return checks
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
func describeMissing(doc *policy.Document, req policy.Request, d policy.Decision) string {
	switch d.Outcome {
	case policy.ExplicitDeny:
		return "explicitly denied by " + refName(doc, d.Deciding[0])
	case policy.Conditional:
		return "allowed only if the condition of " + refName(doc, d.NotEvaluated[0]) + " holds, and the grader cannot evaluate it (" +
			d.NotEvaluated[0].Why + "), so it is not counted as granted"
	}
	if ref, c, ok := failedCondition(doc, req); ok {
		got := "does not carry the key"
		if v, present := req.Context.Values(c.Key); present {
			got = "carries " + strings.Join(v, ", ")
		}
		return fmt.Sprintf("the Allow of %s applies only when %s %s %s, and this call %s", refName(doc, ref), c.Key, c.Operator,
			strings.Join(c.Values, " or "), got)
	}
	return "no statement allows it"
}

// failedCondition finds an Allow that would apply but for a condition the
// request does not meet, and that condition.
func failedCondition(doc *policy.Document, req policy.Request) (policy.Ref, policy.Condition, bool) {
	for _, s := range doc.Statements {
		if s.Effect != policy.Allow || len(s.Conditions) == 0 {
			continue
		}
		bare := s
		bare.Conditions = nil
		if !policy.Evaluate(req, &policy.Document{Type: doc.Type, Statements: []policy.Statement{bare}}).Allowed() {
			continue
		}
		for _, c := range s.Conditions {
			one := bare
			one.Conditions = []policy.Condition{c}
			if policy.Evaluate(req, &policy.Document{Type: doc.Type, Statements: []policy.Statement{one}}).Outcome == policy.ImplicitDeny {
				return policy.Ref{Pointer: s.Pointer, Sid: s.Sid}, c, true
			}
		}
	}
	return policy.Ref{}, policy.Condition{}, false
}

func trustCheck(sc *Scenario, p *parsed) grader.Check {
	c := grader.Check{ID: checkTrust, Title: "Both roles trust " + sc.Service + " (sts:AssumeRole), and no one else",
		Phase: grader.PhaseStatic, MaxPoints: 2}
	var probs []problem
	var deputy []string
	evaluated := 0
	for _, side := range []roleSide{executionSide, taskSide} {
		doc := p.doc(side, "trustPolicy")
		if doc == nil {
			probs = append(probs, problem{fmt.Sprintf("the %s's trust policy is not valid, so it cannot be evaluated", side.label), docField(side, "trustPolicy")})
			continue
		}
		evaluated++
		before := len(probs)
		agent := sc.serviceCaller(sc.Service, sc.Account)
		req := policy.Request{Action: agent.action, Principal: agent.who, Context: agent.ctx}
		if d := policy.Evaluate(req, doc); !d.Allowed() {
			probs = append(probs, problem{fmt.Sprintf("%s cannot assume the %s for a task of account %s: %s", sc.Service, side.label, sc.Account, describeMissing(doc, req, d)),
				docField(side, "trustPolicy") + "/Statement"})
		}
		for _, who := range sc.callers(doc) {
			if sc.allowedCaller(who) {
				continue
			}
			req := policy.Request{Action: who.action, Principal: who.who, Context: who.ctx}
			d := policy.Evaluate(req, doc)
			if d.Denied() {
				continue
			}
			verb := "can assume"
			if d.Outcome == policy.Conditional {
				verb = "may assume (under a condition the grader cannot evaluate: " + d.NotEvaluated[0].Why + ")"
			}
			probs = append(probs, problem{fmt.Sprintf("%s %s the %s (%s), through %s", who.label, verb, side.label, who.action, refName(doc, d.Deciding[0])),
				docField(side, "trustPolicy") + d.Deciding[0].Pointer + "/Principal"})
		}
		other := sc.serviceCaller(sc.Service, otherAccount)
		if policy.Evaluate(policy.Request{Action: other.action, Principal: other.who, Context: other.ctx}, doc).Denied() {
			deputy = append(deputy, side.label)
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
		c.Message = fmt.Sprintf("both roles let %s assume them for this account's tasks, and no other principal can (tried every form: services, this and another account, their roles and users, a web identity provider, and each principal the policies name)", sc.Service)
		if len(deputy) > 0 {
			c.Message += fmt.Sprintf("; the conditions on the %s also refuse %s acting for another account", strings.Join(deputy, " and "), sc.Service)
		}
	default:
		c.Status = grader.CheckFail
		c.Field = probs[0].field
		c.Message = joinProblems(probs)
		c.Expected = fmt.Sprintf("{\"Effect\": \"Allow\", \"Principal\": {\"Service\": %q}, \"Action\": \"sts:AssumeRole\"}", sc.Service)
		c.Hint = "Fargate tasks get their roles through the ECS tasks service: both trust policies name the service principal " + sc.Service + ", not ecs.amazonaws.com, not an account, not \"*\". Conditions on aws:SourceAccount and aws:SourceArn narrow it further."
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
		probs = append(probs, problem{fmt.Sprintf("%s is needed %s, but %s", n, n.Why, describeMissing(doc, n.Request, d)), docField(side, "permissionPolicy") + "/Statement"})
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

// leastPrivilegeCheck computes everything the role's permission policy
// allows over the action catalogs of the services in scope and reports each
// grant no need covers, grouped by the statement that grants it.
func leastPrivilegeCheck(id, title string, points float64, side roleSide, sc *Scenario, p *parsed, plan *sweepPlan, catErr error, needs []need, hint string) grader.Check {
	c := grader.Check{ID: id, Title: title, Phase: grader.PhaseStatic, MaxPoints: points}
	doc := p.doc(side, "permissionPolicy")
	if doc == nil {
		return skipInvalidPolicy(c, side)
	}
	if catErr != nil {
		c.Status, c.Message = grader.CheckError, "the action catalogs could not be read: "+catErr.Error()
		return c
	}
	roleName := executionRoleName
	if side == taskSide {
		roleName = taskRoleName
	}
	extra := plan.extraGrants(doc, sc.roleContext(roleName), needs)
	uncataloguedGrants(plan.cat, doc, extra)
	if extra.count == 0 {
		services, _ := servicesInScope(plan.cat, doc)
		c.Status, c.Points = grader.CheckPass, points
		c.Message = fmt.Sprintf("every action of %s evaluated against the scenario's resources: the %s allows exactly what it needs (%s)",
			strings.Join(services, ", "), side.label, actions(needs))
		return c
	}
	groups := extra.finish()
	var msgs []string
	for _, g := range groups {
		msgs = append(msgs, g.describe(doc))
	}
	c.Status = grader.CheckFail
	c.Field = statementField(side, "permissionPolicy", doc, groups[0].ref)
	pairs := "action–resource pairs"
	if extra.count == 1 {
		pairs = "action–resource pair"
	}
	c.Message = fmt.Sprintf("the %s grants %d %s beyond what it needs: %s", side.label, extra.count, pairs, strings.Join(first(msgs, 3), "; "))
	if len(msgs) > 3 {
		c.Message += fmt.Sprintf("; and %d more statements", len(msgs)-3)
	}
	c.Observed = fmt.Sprintf("%d extra grants, e.g. %s on %s", extra.count, groups[0].actions[0].name, groups[0].actions[0].resources[0])
	c.Expected = "only: " + actions(needs)
	c.Hint = hint
	return c
}

func (g *grantGroup) describe(doc *policy.Document) string {
	written := "the statement at " + g.ref.Pointer
	for _, s := range doc.Statements {
		if s.Pointer != g.ref.Pointer {
			continue
		}
		act, res := "Action "+strings.Join(s.Action, ", "), strings.Join(s.Resource, ", ")
		if s.NotAction != nil {
			act = "NotAction " + strings.Join(s.NotAction, ", ")
		}
		if s.NotResource != nil {
			res = "everything but " + strings.Join(s.NotResource, ", ")
		}
		sid := ""
		if s.Sid != "" {
			sid = fmt.Sprintf("Sid %q, ", s.Sid)
		}
		written = fmt.Sprintf("%s (%s%s on %s)", written, sid, act, res)
	}
	verb := "also grants"
	if g.conditional {
		verb = "may also grant (under a condition the grader cannot evaluate: " + g.why + ")"
	}
	// Actions that reach the same resources are named together: object
	// actions on the objects, bucket actions on the buckets. The first two
	// such sets are named, the rest counted.
	type set struct {
		resources []string
		actions   []string
	}
	var sets []*set
	rest := 0
	for _, a := range g.actions {
		var in *set
		for _, st := range sets {
			if slices.Equal(st.resources, a.resources) {
				in = st
			}
		}
		switch {
		case in != nil:
			in.actions = append(in.actions, a.name)
		case len(sets) < 2:
			sets = append(sets, &set{resources: a.resources, actions: []string{a.name}})
		default:
			rest++
		}
	}
	var parts []string
	for _, st := range sets {
		parts = append(parts, listSome(st.actions, 5, "actions")+" on "+listSome(shortARNs(st.resources), 3, "resources"))
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("%d more actions on other resources", rest))
	}
	return fmt.Sprintf("%s %s %s", written, verb, strings.Join(parts, ", and "))
}

// listSome names up to n items and counts the rest. Items are in the order
// given: the scenario's own resources and the actions on them first.
func listSome(items []string, n int, noun string) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more %s", strings.Join(items[:n], ", "), len(items)-n, noun)
}

// shortARNs drops the arn:aws:s3::: of S3 ARNs, as people write them.
func shortARNs(arns []string) []string {
	out := make([]string, len(arns))
	for i, a := range arns {
		out[i] = strings.TrimPrefix(a, "arn:aws:s3:::")
	}
	return out
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

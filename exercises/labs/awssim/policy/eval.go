package policy

import (
	"regexp"
	"strings"
)

// Principal is who makes a request: for a trust policy, who asks to assume
// the role.
type Principal struct {
	Type string // AWS, Service or Federated
	ID   string // e.g. ecs-tasks.amazonaws.com or arn:aws:iam::123456789012:root
}

// Request is one API call to authorise.
type Request struct {
	Action string // e.g. s3:GetObject
	// Resource is the ARN acted on; identity policies match it.
	Resource string
	// Principal is the caller; trust policies match it.
	Principal Principal
}

// Outcome is the verdict of an evaluation.
type Outcome string

// Outcomes of an evaluation. Conditional means the verdict depends on a
// Condition block, which is not evaluated.
const (
	Allowed      Outcome = "Allow"
	ExplicitDeny Outcome = "ExplicitDeny"
	ImplicitDeny Outcome = "ImplicitDeny"
	Conditional  Outcome = "Conditional"
)

// Ref names a statement: the index of its document among those evaluated,
// and its pointer and Sid inside that document.
type Ref struct {
	Doc     int
	Pointer string
	Sid     string
}

// Decision is the result of evaluating a request.
type Decision struct {
	Outcome Outcome
	// Deciding lists the statements that decided: the Deny statements for
	// an explicit deny, the Allow statements for an allow.
	Deciding []Ref
	// NotEvaluated lists statements that match the request but carry a
	// Condition, which was not evaluated.
	NotEvaluated []Ref
}

// Allowed reports whether the request is allowed whatever the conditions.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Denied reports whether the request is denied whatever the conditions.
func (d Decision) Denied() bool { return d.Outcome == ExplicitDeny || d.Outcome == ImplicitDeny }

// Evaluate authorises req against the documents, as AWS does for policies of
// one account: any matching Deny denies; otherwise any matching Allow
// allows; otherwise the request is implicitly denied. A statement with a
// Condition is not evaluated: when the verdict would differ depending on
// whether such statements apply, the outcome is Conditional, and they are
// listed in NotEvaluated either way.
func Evaluate(req Request, docs ...*Document) Decision {
	var allows, denies, condAllows, condDenies []Ref
	for i, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			if !s.matches(req, d.Type) {
				continue
			}
			ref := Ref{Doc: i, Pointer: s.Pointer, Sid: s.Sid}
			switch {
			case s.Effect == Deny && s.Condition == nil:
				denies = append(denies, ref)
			case s.Effect == Deny:
				condDenies = append(condDenies, ref)
			case s.Condition == nil:
				allows = append(allows, ref)
			default:
				condAllows = append(condAllows, ref)
			}
		}
	}
	d := Decision{NotEvaluated: append(condDenies, condAllows...)}
	switch {
	case len(denies) > 0:
		d.Outcome, d.Deciding = ExplicitDeny, denies
	case len(allows) > 0 && len(condDenies) == 0:
		d.Outcome, d.Deciding = Allowed, allows
	case len(allows) == 0 && len(condAllows) == 0:
		d.Outcome = ImplicitDeny
	default:
		// Allowed when the conditional Allows apply and the conditional
		// Denies do not; denied otherwise.
		d.Outcome, d.Deciding = Conditional, append(allows, condAllows...)
	}
	return d
}

func (s *Statement) matches(req Request, t Type) bool {
	if s.Action != nil && !anyMatch(s.Action, req.Action, matchAction) {
		return false
	}
	if s.NotAction != nil && anyMatch(s.NotAction, req.Action, matchAction) {
		return false
	}
	if t == Trust {
		if s.Principal != nil && !s.Principal.matches(req.Principal) {
			return false
		}
		if s.NotPrincipal != nil && s.NotPrincipal.matches(req.Principal) {
			return false
		}
		return true
	}
	if s.Resource != nil && !anyMatch(s.Resource, req.Resource, MatchResource) {
		return false
	}
	if s.NotResource != nil && anyMatch(s.NotResource, req.Resource, MatchResource) {
		return false
	}
	return true
}

func anyMatch(patterns []string, value string, match func(pattern, value string) bool) bool {
	for _, p := range patterns {
		if match(p, value) {
			return true
		}
	}
	return false
}

func (p *Principals) matches(who Principal) bool {
	if p.Any {
		return true
	}
	for _, v := range p.ByType[who.Type] {
		if v == "*" || samePrincipal(who.Type, v, who.ID) {
			return true
		}
	}
	return false
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

func samePrincipal(typ, a, b string) bool {
	switch typ {
	case "Service":
		return strings.EqualFold(a, b)
	case "AWS":
		// An account id stands for the account's root principal.
		if accountID.MatchString(a) {
			a = "arn:aws:iam::" + a + ":root"
		}
		if accountID.MatchString(b) {
			b = "arn:aws:iam::" + b + ":root"
		}
	}
	return a == b
}

// matchAction matches an action pattern; action names are case-insensitive.
func matchAction(pattern, action string) bool {
	return Match(strings.ToLower(pattern), strings.ToLower(action))
}

// MatchResource matches an ARN pattern; ARNs are case-sensitive.
func MatchResource(pattern, arn string) bool { return Match(pattern, arn) }

// Match reports whether value matches pattern, where * matches any run of
// characters (including none, and including ':' and '/') and ? exactly one.
// The comparison is exact otherwise.
func Match(patternText, valueText string) bool {
	// Iterative glob matching with backtracking to the last star: never
	// exponential. Runes, so that ? is one character, not one byte.
	pattern, value := []rune(patternText), []rune(valueText)
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

package policy

import (
	"regexp"
	"strings"
)

// Principal is who makes a request: for a trust policy, who asks to assume
// the role.
type Principal struct {
	Type string // AWS, Service, Federated or CanonicalUser
	// ID is the service name (ecs-tasks.amazonaws.com), the ARN of an AWS
	// principal (arn:aws:iam::123456789012:role/x, or …:root for the
	// account itself), or the identity provider of a federated one.
	ID string
}

// Request is one API call to authorise.
type Request struct {
	Action string // e.g. s3:GetObject
	// Resource is the ARN acted on; identity policies match it.
	Resource string
	// Principal is the caller; trust policies match it.
	Principal Principal
	// Context holds the condition keys the call carries.
	Context Context
}

// Outcome is the verdict of an evaluation.
type Outcome string

// Outcomes of an evaluation. Conditional means the verdict depends on a
// condition the grader does not evaluate (a key the simulated calls do not
// model, an unknown operator, a policy variable).
const (
	Allowed      Outcome = "Allow"
	ExplicitDeny Outcome = "ExplicitDeny"
	ImplicitDeny Outcome = "ImplicitDeny"
	Conditional  Outcome = "Conditional"
)

// Ref names a statement: the index of its document among those evaluated,
// and its pointer and Sid inside that document. Why is set for a statement
// whose condition was not evaluated.
type Ref struct {
	Doc     int
	Pointer string
	Sid     string
	Why     string
}

// Decision is the result of evaluating a request.
type Decision struct {
	Outcome Outcome
	// Deciding lists the statements that decided: the Deny statements for
	// an explicit deny, the Allow statements for an allow (and, for a
	// conditional outcome, the Allows that might apply).
	Deciding []Ref
	// NotEvaluated lists statements that match the request but carry a
	// condition the grader could not evaluate, each with why.
	NotEvaluated []Ref
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Denied reports whether the request is denied whatever the conditions that
// were not evaluated.
func (d Decision) Denied() bool { return d.Outcome == ExplicitDeny || d.Outcome == ImplicitDeny }

// Evaluate authorises req against the documents, as AWS does for policies of
// one account: any applicable Deny denies; otherwise any applicable Allow
// allows; otherwise the request is implicitly denied. A statement applies
// when its action, resource (or principal) and every condition match. When
// the verdict would differ depending on statements whose conditions could
// not be evaluated, the outcome is Conditional; such statements are listed
// in NotEvaluated either way.
func Evaluate(req Request, docs ...*Document) Decision {
	var allows, denies, condAllows, condDenies []Ref
	for i, d := range docs {
		if d == nil {
			continue
		}
		for si := range d.Statements {
			s := &d.Statements[si]
			t, why := s.applies(req, d.Type)
			if t == isFalse {
				continue
			}
			ref := Ref{Doc: i, Pointer: s.Pointer, Sid: s.Sid, Why: why}
			switch {
			case s.Effect == Deny && t == isTrue:
				denies = append(denies, ref)
			case s.Effect == Deny:
				condDenies = append(condDenies, ref)
			case t == isTrue:
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
		// Allowed when the unevaluated Allows apply and the unevaluated
		// Denies do not; denied otherwise.
		d.Outcome, d.Deciding = Conditional, append(allows, condAllows...)
	}
	return d
}

// applies decides whether the statement applies to the request: false when
// its action, resource or principal does not match or a condition is false;
// unknown (with why) when they match but a condition could not be
// evaluated.
func (s *Statement) applies(req Request, t Type) (truth, string) {
	if !s.matchesTarget(req, t) {
		return isFalse, ""
	}
	return s.conditionsHold(req.Context)
}

// conditionsHold decides the statement's Condition block: false if any
// condition is false, else unknown (with why) if any could not be
// evaluated, else true.
func (s *Statement) conditionsHold(ctx Context) (truth, string) {
	result, why := isTrue, ""
	for _, c := range s.Conditions {
		switch v, w := c.eval(ctx); v {
		case isFalse:
			return isFalse, ""
		case unknown:
			if result == isTrue {
				result, why = unknown, w
			}
		}
	}
	return result, why
}

func (s *Statement) matchesTarget(req Request, t Type) bool {
	if !s.coversAction(strings.ToLower(req.Action)) {
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

// matches reports whether the caller is one the element names. "*" and
// {"AWS": "*"} name everyone (IAM User Guide, "AWS JSON policy elements:
// Principal").
func (p *Principals) matches(who Principal) bool {
	if p.Any {
		return true
	}
	for _, v := range p.ByType["AWS"] {
		if v == "*" {
			return true
		}
	}
	for _, v := range p.ByType[who.Type] {
		if samePrincipal(who.Type, v, who.ID) {
			return true
		}
	}
	return false
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// accountOf returns the account of an IAM or STS ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[2] != "iam" && parts[2] != "sts") {
		return ""
	}
	return parts[4]
}

// samePrincipal reports whether the principal named in a policy covers the
// caller. An account, by id or as arn:…:iam::ACCOUNT:root, stands for every
// principal of that account (IAM User Guide, "AWS account principals"); a
// service name is case-insensitive.
func samePrincipal(typ, named, caller string) bool {
	switch typ {
	case "Service":
		return strings.EqualFold(named, caller)
	case "AWS":
		account := ""
		switch {
		case accountID.MatchString(named):
			account = named
		case strings.HasPrefix(named, "arn:") && strings.HasSuffix(named, ":root"):
			account = accountOf(named)
		}
		if account != "" {
			return account == accountOf(caller) || account == caller
		}
	}
	return named == caller
}

// coversAction reports whether the statement's Action or NotAction covers
// the action, given in lower case: action names are case-insensitive.
func (s *Statement) coversAction(action string) bool {
	if s.actionLower == nil && s.Action != nil || s.notActionLower == nil && s.NotAction != nil {
		// A statement built by hand rather than parsed.
		s.actionLower, s.notActionLower = lowerAll(s.Action), lowerAll(s.NotAction)
	}
	if s.Action != nil && !anyMatch(s.actionLower, action, Match) {
		return false
	}
	if s.NotAction != nil && anyMatch(s.notActionLower, action, Match) {
		return false
	}
	return true
}

// MatchResource matches an ARN pattern; ARNs are case-sensitive.
func MatchResource(pattern, arn string) bool { return Match(pattern, arn) }

// Match reports whether value matches pattern, where * matches any run of
// characters (including none, and including ':' and '/') and ? exactly one.
// The comparison is exact otherwise.
func Match(pattern, value string) bool {
	if isASCII(pattern) && isASCII(value) {
		return glob([]byte(pattern), []byte(value))
	}
	// Runes, so that ? is one character, not one byte.
	return glob([]rune(pattern), []rune(value))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// glob is iterative matching with backtracking to the last star: never
// exponential.
func glob[T byte | rune](pattern, value []T) bool {
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

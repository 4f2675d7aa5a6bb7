// Package policy reads and evaluates AWS IAM policy documents: identity
// (permission) policies and role trust policies. It follows AWS's evaluation
// logic for a single account (IAM User Guide, "Policy evaluation logic"): an
// explicit Deny wins over any Allow, an Allow is needed for anything to be
// permitted, and everything else is implicitly denied. Condition blocks are
// evaluated against the request context each call carries; a condition on a
// key or with an operator the simulation does not model is reported as not
// evaluated, and a decision that depends on it says so instead of guessing.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Effect is a statement's effect.
type Effect string

// The two effects a statement may have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Type says what a policy document is attached as, which decides the fields
// it may and must have.
type Type int

const (
	// Identity is a permission policy attached to a role: it names
	// resources and never a principal.
	Identity Type = iota
	// Trust is a role's trust policy: it names principals and never a
	// resource.
	Trust
)

func (t Type) String() string {
	if t == Trust {
		return "trust policy"
	}
	return "permission policy"
}

// Document is a parsed policy document.
type Document struct {
	Type       Type
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a document. Exactly one of Action and
// NotAction is set; for an identity policy exactly one of Resource and
// NotResource; for a trust policy exactly one of Principal and NotPrincipal.
type Statement struct {
	Sid          string
	Effect       Effect
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Principal    *Principals
	NotPrincipal *Principals
	// Conditions are the operator-key pairs of the Condition block, all of
	// which must hold for the statement to apply.
	Conditions []Condition
	// actionLower and notActionLower are Action and NotAction in lower
	// case, as they are matched (action names are case-insensitive).
	actionLower, notActionLower []string
	// Pointer is the statement's JSON Pointer inside its document:
	// "/Statement" when Statement is a single object, else "/Statement/N".
	Pointer string
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	// Any is set by "Principal": "*".
	Any bool
	// ByType maps a principal type (AWS, Service, Federated, CanonicalUser)
	// to the principals named.
	ByType map[string][]string
}

// Error is a problem that makes IAM reject a document. Pointer is a JSON
// Pointer inside the document.
type Error struct {
	Pointer string
	Message string
}

func (e *Error) Error() string {
	if e.Pointer == "" {
		return e.Message
	}
	return e.Pointer + ": " + e.Message
}

func errorf(ptr, format string, args ...any) *Error {
	return &Error{Pointer: ptr, Message: fmt.Sprintf(format, args...)}
}

// Versions IAM accepts. A document without one is read as 2008-10-17.
var versions = map[string]bool{"2012-10-17": true, "2008-10-17": true}

var docKeys = map[string]bool{"Version": true, "Id": true, "Statement": true}

var stmtKeys = map[string]bool{
	"Sid": true, "Effect": true, "Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Principal": true, "NotPrincipal": true, "Condition": true,
}

var principalTypes = map[string]bool{"AWS": true, "Service": true, "Federated": true, "CanonicalUser": true}

// Parse reads a policy document of the given type and checks it as IAM would
// before accepting it. The error, if any, is an *Error.
func Parse(data []byte, t Type) (*Document, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, errorf("", "the %s is missing: it must be a JSON object with Version and Statement", t)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, errorf("", "a %s must be a JSON object with Version and Statement", t)
	}
	doc := &Document{Type: t}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !docKeys[k] {
			return nil, errorf("/"+escape(k), "unknown field %s in a policy document (fields are Version, Id and Statement; names are case-sensitive)", quote(k))
		}
	}
	if raw, ok := top["Version"]; ok {
		if err := json.Unmarshal(raw, &doc.Version); err != nil || !versions[doc.Version] {
			return nil, errorf("/Version", "Version must be \"2012-10-17\" (or the older \"2008-10-17\"), not %s", short(raw))
		}
	}
	if raw, ok := top["Id"]; ok {
		if err := json.Unmarshal(raw, &doc.ID); err != nil {
			return nil, errorf("/Id", "Id must be a string")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errorf("", "the policy document has no Statement")
	}
	var objs []json.RawMessage
	single := false
	switch firstByte(raw) {
	case '[':
		if err := json.Unmarshal(raw, &objs); err != nil {
			return nil, errorf("/Statement", "Statement must be a statement object or a list of them")
		}
	case '{':
		objs, single = []json.RawMessage{raw}, true
	default:
		return nil, errorf("/Statement", "Statement must be a statement object or a list of them, not %s", short(raw))
	}
	if len(objs) == 0 {
		return nil, errorf("/Statement", "Statement is empty: a policy needs at least one statement")
	}
	sids := map[string]string{}
	for i, o := range objs {
		ptr := "/Statement"
		if !single {
			ptr += "/" + strconv.Itoa(i)
		}
		s, err := parseStatement(o, ptr, t)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if prev, dup := sids[s.Sid]; dup {
				return nil, errorf(ptr+"/Sid", "The Statement Ids in the policy are not unique: %s is also the Sid of %s", quote(s.Sid), prev)
			}
			sids[s.Sid] = ptr
		}
		doc.Statements = append(doc.Statements, s)
	}
	return doc, nil
}

func parseStatement(raw json.RawMessage, ptr string, t Type) (Statement, error) {
	s := Statement{Pointer: ptr}
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return s, errorf(ptr, "a statement must be a JSON object")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !stmtKeys[k] {
			return s, errorf(ptr+"/"+escape(k), "unknown field %s in a statement (names are case-sensitive: Effect, Action, Resource…)", quote(k))
		}
	}
	if raw, ok := m["Sid"]; ok {
		if err := json.Unmarshal(raw, &s.Sid); err != nil {
			return s, errorf(ptr+"/Sid", "Sid must be a string")
		}
		if msg := checkSid(s.Sid); msg != "" {
			return s, errorf(ptr+"/Sid", "%s", msg)
		}
	}
	var effect string
	if raw, ok := m["Effect"]; !ok {
		return s, errorf(ptr, "the statement has no Effect: write \"Effect\": \"Allow\" or \"Deny\"")
	} else if err := json.Unmarshal(raw, &effect); err != nil || (effect != string(Allow) && effect != string(Deny)) {
		return s, errorf(ptr+"/Effect", "Effect must be \"Allow\" or \"Deny\" (case-sensitive), not %s", short(raw))
	}
	s.Effect = Effect(effect)

	var err error
	if s.Action, s.NotAction, err = pair(m, ptr, "Action", "NotAction", true, checkAction); err != nil {
		return s, err
	}
	s.actionLower, s.notActionLower = lowerAll(s.Action), lowerAll(s.NotAction)
	switch t {
	case Identity:
		if _, ok := m["Principal"]; ok {
			return s, errorf(ptr+"/Principal", "a permission policy must not name a Principal: it applies to the role it is attached to")
		}
		if _, ok := m["NotPrincipal"]; ok {
			return s, errorf(ptr+"/NotPrincipal", "a permission policy must not name a NotPrincipal: it applies to the role it is attached to")
		}
		if s.Resource, s.NotResource, err = pair(m, ptr, "Resource", "NotResource", true, checkResource); err != nil {
			return s, err
		}
	case Trust:
		for _, k := range []string{"Resource", "NotResource"} {
			if _, ok := m[k]; ok {
				return s, errorf(ptr+"/"+k, "a trust policy must not have %s: the resource is the role itself", k)
			}
		}
		_, hasP := m["Principal"]
		_, hasNP := m["NotPrincipal"]
		switch {
		case hasP && hasNP:
			return s, errorf(ptr, "a statement may have Principal or NotPrincipal, not both")
		case !hasP && !hasNP:
			return s, errorf(ptr, "a trust policy statement must name a Principal, e.g. {\"Service\": \"ecs-tasks.amazonaws.com\"}")
		case hasP:
			if s.Principal, err = parsePrincipals(m["Principal"], ptr+"/Principal"); err != nil {
				return s, err
			}
		default:
			// IAM User Guide, "AWS JSON policy elements: NotPrincipal":
			// a role's trust policy cannot use it.
			return s, errorf(ptr+"/NotPrincipal", "a role trust policy must not use NotPrincipal: name the principals that may assume the role in Principal")
		}
	}
	if raw, ok := m["Condition"]; ok {
		if s.Conditions, err = parseConditions(raw, ptr+"/Condition"); err != nil {
			return s, err
		}
	}
	return s, nil
}

// pair reads one of two mutually exclusive elements (Action/NotAction,
// Resource/NotResource), each a string or a list of strings.
func pair(m map[string]json.RawMessage, ptr, name, notName string, required bool, check func(string) string) (yes, not []string, err error) {
	rawYes, okYes := m[name]
	rawNot, okNot := m[notName]
	switch {
	case okYes && okNot:
		return nil, nil, errorf(ptr, "a statement may have %s or %s, not both", name, notName)
	case !okYes && !okNot:
		if required {
			return nil, nil, errorf(ptr, "the statement has no %s (or %s)", name, notName)
		}
		return nil, nil, nil
	case okYes:
		yes, err = stringOrList(rawYes, ptr+"/"+name, name, check)
	default:
		not, err = stringOrList(rawNot, ptr+"/"+notName, notName, check)
	}
	return yes, not, err
}

func stringOrList(raw json.RawMessage, ptr, name string, check func(string) string) ([]string, error) {
	var list []string
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errorf(ptr, "%s must be a string or a list of strings", name)
		}
		list = []string{s}
		if msg := check(s); msg != "" {
			return nil, errorf(ptr, "%s", msg)
		}
		return list, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errorf(ptr, "%s must be a string or a list of strings", name)
		}
		if len(items) == 0 {
			return nil, errorf(ptr, "%s is an empty list", name)
		}
		for i, it := range items {
			var s string
			if firstByte(it) != '"' || json.Unmarshal(it, &s) != nil {
				return nil, errorf(ptr+"/"+strconv.Itoa(i), "every %s entry must be a string, not %s", name, short(it))
			}
			if msg := check(s); msg != "" {
				return nil, errorf(ptr+"/"+strconv.Itoa(i), "%s", msg)
			}
			list = append(list, s)
		}
		return list, nil
	}
	return nil, errorf(ptr, "%s must be a string or a list of strings, not %s", name, short(raw))
}

// checkAction accepts "*" and service:action, where the action part may hold
// wildcards.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok || vendor == "" || name == "" {
		return fmt.Sprintf("action %s must be written service:action, e.g. s3:GetObject (or \"*\")", quote(a))
	}
	for _, r := range vendor {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf("action %s: the service prefix may hold only letters, digits and '-' (no wildcards)", quote(a))
		}
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '*' || r == '?' || r == '-' || r == '_') {
			return fmt.Sprintf("action %s: an action name holds only letters, digits and the wildcards * and ?", quote(a))
		}
	}
	return ""
}

// checkResource accepts "*" and ARNs (arn:partition:service:region:account:resource).
func checkResource(r string) string {
	if r == "*" {
		return ""
	}
	if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return fmt.Sprintf("resource %s must be an ARN (arn:partition:service:region:account:resource) or \"*\"; an S3 object is arn:aws:s3:::bucket/key", quote(r))
	}
	return ""
}

func parsePrincipals(raw json.RawMessage, ptr string) (*Principals, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return nil, errorf(ptr, "a principal must be \"*\" or an object such as {\"Service\": \"ecs-tasks.amazonaws.com\"}, not %s", short(raw))
		}
		return &Principals{Any: true}, nil
	case '{':
	default:
		return nil, errorf(ptr, "a principal must be an object such as {\"Service\": \"ecs-tasks.amazonaws.com\"}, not %s", short(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, errorf(ptr, "a principal must name at least one principal type (AWS, Service, Federated)")
	}
	p := &Principals{ByType: map[string][]string{}}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !principalTypes[k] {
			return nil, errorf(ptr+"/"+escape(k), "unknown principal type %s (types are AWS, Service, Federated and CanonicalUser)", quote(k))
		}
		list, err := stringOrList(m[k], ptr+"/"+escape(k), k, func(v string) string {
			if v == "" {
				return "a principal must not be empty"
			}
			if v != "*" && strings.ContainsAny(v, "*?") {
				return fmt.Sprintf("principal %s: wildcards are not allowed in a principal (only \"*\" alone)", quote(v))
			}
			// IAM User Guide, "AWS JSON policy elements: Principal": an AWS
			// principal is an account id, an account root, or the ARN of a
			// role, user or session.
			if k == "AWS" && v != "*" && !accountID.MatchString(v) && !strings.HasPrefix(v, "arn:") {
				return fmt.Sprintf("Invalid principal in policy: %s is not an account id (12 digits) or an ARN such as arn:aws:iam::123456789012:root", quote(v))
			}
			return ""
		})
		if err != nil {
			return nil, err
		}
		p.ByType[k] = list
	}
	return p, nil
}

func firstByte(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// short quotes a raw JSON value for a message, cut to a readable length.
func short(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:37] + "…"
	}
	return s
}

// quote quotes a submitted string for a message, cut to a readable length.
func quote(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "…"
	}
	return strconv.Quote(s)
}

// escape escapes a key for use in a JSON Pointer.
func escape(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

func lowerAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = strings.ToLower(v)
	}
	return out
}

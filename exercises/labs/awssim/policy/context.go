package policy

import "strings"

// Context is the request context of one call: the condition keys it
// carries and their values. Condition key names are case-insensitive (IAM
// User Guide, "IAM JSON policy elements: Condition"), so keys are stored in
// lower case; use Set and Values rather than indexing the map.
type Context map[string][]string

// Set records a key's values, replacing any earlier ones.
func (c Context) Set(key string, values ...string) Context {
	c[strings.ToLower(key)] = values
	return c
}

// Values returns a key's values and whether the request carries the key.
func (c Context) Values(key string) ([]string, bool) {
	v, ok := c[strings.ToLower(key)]
	return v, ok
}

// Clone returns a copy that can be changed without changing c.
func (c Context) Clone() Context {
	out := make(Context, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// modelledKeys are the condition keys whose presence the simulated calls
// know: for these a key missing from a Context means the call does not
// carry it, and the condition is evaluated as IAM would evaluate a missing
// key. Any other key is reported as not evaluated. The global keys are
// described in the IAM User Guide, "AWS global condition context keys";
// s3:prefix in the Service Authorization Reference for Amazon S3.
var modelledKeys = map[string]bool{
	"aws:sourceaccount":         true,
	"aws:sourcearn":             true,
	"aws:principalaccount":      true,
	"aws:principalarn":          true,
	"aws:principalisawsservice": true,
	"aws:principalservicename":  true,
	"aws:securetransport":       true,
	"s3:prefix":                 true,
}

// modelledKeyPrefixes are families of keys that are modelled whatever the
// tag they name: the simulated roles carry no tags, so any
// aws:PrincipalTag/NAME is absent.
var modelledKeyPrefixes = []string{"aws:principaltag/"}

// Modelled reports whether the simulation knows whether a request carries
// the key, so that a condition on it can be evaluated.
func Modelled(key string) bool {
	k := strings.ToLower(key)
	if modelledKeys[k] {
		return true
	}
	for _, p := range modelledKeyPrefixes {
		if strings.HasPrefix(k, p) && len(k) > len(p) {
			return true
		}
	}
	return false
}

// ServiceContext is the request context of a call a service principal makes
// for a resource of an account, as the ECS agent's sts:AssumeRole for a task
// does: it carries the account and the ARN of the resource it acts for
// (aws:SourceAccount, aws:SourceArn), names the service
// (aws:PrincipalServiceName, aws:PrincipalIsAWSService), and travels over
// TLS.
func ServiceContext(service, sourceAccount, sourceARN string) Context {
	return Context{}.
		Set("aws:SourceAccount", sourceAccount).
		Set("aws:SourceArn", sourceARN).
		Set("aws:PrincipalServiceName", service).
		Set("aws:PrincipalIsAWSService", "true").
		Set("aws:SecureTransport", "true")
}

// PrincipalContext is the request context of a call signed by an IAM
// principal (a role's session, a user, an account root): its account and
// ARN, and TLS, as an AWS SDK sends every call.
func PrincipalContext(account, principalARN string) Context {
	return Context{}.
		Set("aws:PrincipalAccount", account).
		Set("aws:PrincipalArn", principalARN).
		Set("aws:PrincipalIsAWSService", "false").
		Set("aws:SecureTransport", "true")
}

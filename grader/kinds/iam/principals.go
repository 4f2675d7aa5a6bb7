package iam

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
)

// otherAccount stands for any account other than the scenario's.
const otherAccount = "999999999999"

// caller is a principal that might ask to assume a role, with the request
// it would send.
type caller struct {
	who    policy.Principal
	action string
	ctx    policy.Context
	label  string
}

func (sc *Scenario) serviceCaller(service, account string) caller {
	source := fmt.Sprintf("arn:aws:ecs:%s:%s:task/default/%s", sc.Region, account, sampleTaskID)
	label := "the service " + service
	if account != sc.Account {
		label += " acting for account " + account
	}
	return caller{who: policy.Principal{Type: "Service", ID: service}, action: "sts:AssumeRole",
		ctx: policy.ServiceContext(service, account, source), label: label}
}

func awsCaller(arn string) caller {
	account := ""
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		account = parts[4]
	}
	label := arn
	if strings.HasSuffix(arn, ":root") {
		label = "account " + account + " (" + arn + ")"
	}
	return caller{who: policy.Principal{Type: "AWS", ID: arn}, action: "sts:AssumeRole",
		ctx: policy.PrincipalContext(account, arn), label: label}
}

func federatedCaller(provider string) caller {
	return caller{who: policy.Principal{Type: "Federated", ID: provider}, action: "sts:AssumeRoleWithWebIdentity",
		ctx: policy.Context{}.Set("aws:SecureTransport", "true"), label: "users of the identity provider " + provider}
}

// callers is every principal form the trust check tries besides the one the
// scenario allows: the scenario's untrusted principals; principals of this
// account and of another one (the account itself, a role, a user); other
// services, and the allowed service acting for another account; a web
// identity provider; and every principal the document itself names. A
// principal "*" is caught by any of them.
func (sc *Scenario) callers(doc *policy.Document) []caller {
	var out []caller
	seen := map[string]bool{}
	add := func(c caller) {
		key := c.who.Type + " " + c.who.ID + " " + contextString(c.ctx)
		if !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	untrusted, _ := sc.untrusted()
	for _, p := range untrusted {
		if p.Type == "Service" {
			add(sc.serviceCaller(p.ID, sc.Account))
		} else {
			add(awsCaller(p.ID))
		}
	}
	for _, account := range []string{sc.Account, otherAccount} {
		add(awsCaller("arn:aws:iam::" + account + ":root"))
		add(awsCaller("arn:aws:iam::" + account + ":role/deploy"))
		add(awsCaller("arn:aws:iam::" + account + ":user/dev"))
	}
	add(sc.serviceCaller("ec2.amazonaws.com", sc.Account))
	add(sc.serviceCaller("lambda.amazonaws.com", sc.Account))
	add(federatedCaller("cognito-identity.amazonaws.com"))
	for _, s := range doc.Statements {
		if s.Principal == nil {
			continue
		}
		for _, typ := range []string{"AWS", "Service", "Federated", "CanonicalUser"} {
			for _, v := range s.Principal.ByType[typ] {
				switch {
				case v == "*":
				case typ == "Service" && !strings.EqualFold(v, sc.Service):
					add(sc.serviceCaller(v, sc.Account))
				case typ == "AWS" && len(v) == 12:
					add(awsCaller("arn:aws:iam::" + v + ":root"))
					add(awsCaller("arn:aws:iam::" + v + ":role/deploy"))
				case typ == "AWS":
					add(awsCaller(v))
				case typ == "Federated":
					add(federatedCaller(v))
				case typ == "CanonicalUser":
					add(caller{who: policy.Principal{Type: typ, ID: v}, action: "sts:AssumeRole", ctx: policy.Context{}, label: "the canonical user " + v})
				}
			}
		}
	}
	return out
}

// allowedCaller says which principals the scenario allows: its service,
// for the scenario's own account (the same service acting for another
// account is refused by a trust policy with the recommended conditions, and
// allowed by one without them; either is correct).
func (sc *Scenario) allowedCaller(c caller) bool {
	return c.who.Type == "Service" && strings.EqualFold(c.who.ID, sc.Service)
}

// String renders a context in a stable order, for messages and keys.
func contextString(ctx policy.Context) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		parts = append(parts, k+"="+strings.Join(ctx[k], ","))
	}
	return strings.Join(parts, " ")
}

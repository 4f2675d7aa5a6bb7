package iam

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
	"coldstart/grader"
)

// Scenario is the exercise's `scenario:` block: the task, what its agent and
// its app need, and what each role must be denied.
type Scenario struct {
	Account string `yaml:"account"`
	Region  string `yaml:"region"`
	// Service is the principal both roles must trust.
	Service string `yaml:"service"`
	// Image is the private ECR image the agent pulls.
	Image    string `yaml:"image"`
	LogGroup string `yaml:"logGroup"`
	// LogStreamPrefix is the awslogs-stream-prefix; streams are named
	// PREFIX/CONTAINER/TASK-ID.
	LogStreamPrefix string `yaml:"logStreamPrefix"`
	// Secrets maps an environment variable to its Secrets Manager ARN.
	Secrets map[string]string `yaml:"secrets"`
	// Reads lists bucket/key objects the app must be able to read.
	Reads []string `yaml:"reads"`
	// ReadScope lists the bucket/key patterns the app may read (its job
	// covers every object they match); by default, exactly Reads.
	ReadScope []string `yaml:"readScope"`
	// Objects is what the simulated S3 holds: bucket/key → content.
	Objects map[string]string `yaml:"objects"`
	// Forbidden lists calls the app tries at run time, each "Operation
	// target", which the task role must refuse.
	Forbidden []string `yaml:"forbidden"`
	// UntrustedPrincipals may not assume either role: "Service NAME" or "AWS ARN".
	UntrustedPrincipals []string `yaml:"untrustedPrincipals"`
	// ExecutionMustDeny and TaskMustDeny list "action resource" requests
	// each role must not allow; the app's needs are added to the first and
	// the agent's needs to the second.
	ExecutionMustDeny []string `yaml:"executionMustDeny"`
	TaskMustDeny      []string `yaml:"taskMustDeny"`
}

// Role names in the simulated account.
const (
	executionRoleName = "api-worker-execution-role"
	taskRoleName      = "api-worker-task-role"
)

// need is a request a role must allow, with why. Scope is the resource
// pattern of everything the same need covers (every log stream of the task's
// log group, every object under the app's prefix): a grant inside it is not
// beyond what the role needs.
type need struct {
	policy.Request
	Scope string
	Why   string
}

// covers reports whether a grant of action on resource is part of the need.
func (n need) covers(action, resource string) bool {
	scope := n.Scope
	if scope == "" {
		scope = n.Resource
	}
	return strings.EqualFold(n.Action, action) && policy.MatchResource(scope, resource)
}

func (n need) String() string {
	return n.Action + " on " + n.Resource
}

func decodeScenario(spec grader.Spec) (*Scenario, error) {
	var sc Scenario
	if err := spec.DecodeScenario(&sc); err != nil {
		return nil, fmt.Errorf("the exercise's scenario cannot be read: %w", err)
	}
	var errs []error
	if sc.Account == "" || sc.Region == "" || sc.Service == "" || sc.Image == "" || sc.LogGroup == "" {
		errs = append(errs, errors.New("account, region, service, image and logGroup are required"))
	}
	if reg, repo, tag := sc.imageParts(); !strings.HasSuffix(reg, ".amazonaws.com") || repo == "" || tag == "" {
		errs = append(errs, fmt.Errorf("image %q is not REGISTRY/NAME:TAG", sc.Image))
	}
	if len(sc.Reads) == 0 {
		errs = append(errs, errors.New("reads must name at least one object the app reads"))
	}
	for _, r := range sc.Reads {
		if _, ok := sc.Objects[r]; !ok {
			errs = append(errs, fmt.Errorf("the app reads %s, which is not among objects", r))
		}
	}
	for _, f := range sc.Forbidden {
		if op, target, ok := strings.Cut(f, " "); !ok || op == "" || target == "" {
			errs = append(errs, fmt.Errorf("forbidden call %q is not \"Operation target\"", f))
		}
	}
	if _, err := sc.untrusted(); err != nil {
		errs = append(errs, err)
	}
	for _, list := range [][]string{sc.ExecutionMustDeny, sc.TaskMustDeny} {
		if _, err := parseNeeds(list, ""); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("the exercise's scenario is incomplete: %w", errors.Join(errs...))
	}
	if sc.LogStreamPrefix == "" {
		sc.LogStreamPrefix = "ecs"
	}
	if len(sc.ReadScope) == 0 {
		sc.ReadScope = sc.Reads
	}
	return &sc, nil
}

// imageParts splits the image into registry, repository name and tag.
func (sc *Scenario) imageParts() (registry, repo string, tag string) {
	registry, rest, _ := strings.Cut(sc.Image, "/")
	repo, tag, _ = strings.Cut(rest, ":")
	return registry, repo, tag
}

func (sc *Scenario) repositoryARN() string {
	_, repo, _ := sc.imageParts()
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", sc.Region, sc.Account, repo)
}

func (sc *Scenario) containerName() string {
	_, repo, _ := sc.imageParts()
	if i := strings.LastIndex(repo, "/"); i >= 0 {
		repo = repo[i+1:]
	}
	return repo
}

func (sc *Scenario) logStream(taskID string) string {
	return sc.LogStreamPrefix + "/" + sc.containerName() + "/" + taskID
}

func (sc *Scenario) logStreamARN(stream string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", sc.Region, sc.Account, sc.LogGroup, stream)
}

// logGroupARN is the log group in the form CloudWatch Logs checks, with the
// trailing ":*" (shared/facts.md, IAM policy documents).
func (sc *Scenario) logGroupARN() string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", sc.Region, sc.Account, sc.LogGroup)
}

// sampleTaskID names the task in the requests the static checks evaluate.
const sampleTaskID = "0f6a3c5e2b1d4e7f8a9b0c1d2e3f4a5b"

// taskARN is the task the ECS agent acts for when it assumes a role, in the
// simulated cluster "default" (the run phase's simulator names it alike).
func (sc *Scenario) taskARN() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task/default/%s", sc.Region, sc.Account, sampleTaskID)
}

func (sc *Scenario) roleARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", sc.Account, name)
}

// roleContext is the request context of a call made with a role's
// credentials.
func (sc *Scenario) roleContext(roleName string) policy.Context {
	return policy.PrincipalContext(sc.Account, sc.roleARN(roleName))
}

// agentNeeds is what the ECS agent does with the execution role to start
// the task: the ECR pull set, the awslogs writes and each secret.
func (sc *Scenario) agentNeeds() []need {
	repo := sc.repositoryARN()
	stream := sc.logStreamARN(sc.logStream(sampleTaskID))
	// Every task gets a stream of its own in the group.
	streams := sc.logStreamARN("*")
	ctx := sc.roleContext(executionRoleName)
	req := func(action, resource string) policy.Request {
		return policy.Request{Action: action, Resource: resource, Context: ctx}
	}
	needs := []need{
		{req("ecr:GetAuthorizationToken", "*"), "", "to log in to the private registry"},
		{req("ecr:BatchCheckLayerAvailability", repo), "", "to pull the image"},
		{req("ecr:GetDownloadUrlForLayer", repo), "", "to pull the image's layers"},
		{req("ecr:BatchGetImage", repo), "", "to pull the image's manifest"},
		{req("logs:CreateLogStream", stream), streams, "for the awslogs driver to create the task's log stream"},
		{req("logs:PutLogEvents", stream), streams, "for the awslogs driver to write the container's output"},
	}
	for _, name := range slices.Sorted(maps.Keys(sc.Secrets)) {
		needs = append(needs, need{req("secretsmanager:GetSecretValue", sc.Secrets[name]), "", "to fill " + name + " from Secrets Manager"})
	}
	return needs
}

// appNeeds is what the application does with the task role.
func (sc *Scenario) appNeeds() []need {
	var needs []need
	ctx := sc.roleContext(taskRoleName)
	for _, r := range sc.Reads {
		scope := ""
		for _, pattern := range sc.ReadScope {
			if policy.Match(pattern, r) {
				scope = "arn:aws:s3:::" + pattern
			}
		}
		needs = append(needs, need{policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::" + r, Context: ctx}, scope, "for the app to read its report"})
	}
	return needs
}

// appScope is every read the app's job covers, for the least-privilege
// check: s3:GetObject on each pattern of ReadScope.
func (sc *Scenario) appScope() []need {
	out := sc.appNeeds()
	for _, pattern := range sc.ReadScope {
		out = append(out, need{Request: policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::" + pattern}, Scope: "arn:aws:s3:::" + pattern})
	}
	return out
}

// probes returns the scenario's extra requests for a role (ExecutionMustDeny
// or TaskMustDeny): their resources join the ones the least-privilege check
// evaluates every catalog action against.
func (sc *Scenario) probes(side roleSide) []need {
	list := sc.ExecutionMustDeny
	if side == taskSide {
		list = sc.TaskMustDeny
	}
	out, _ := parseNeeds(list, "")
	return out
}

func parseNeeds(list []string, why string) ([]need, error) {
	var out []need
	for _, s := range list {
		f := strings.Fields(s)
		if len(f) != 2 {
			return nil, fmt.Errorf("request %q is not \"action resource\"", s)
		}
		out = append(out, need{Request: policy.Request{Action: f[0], Resource: f[1]}, Why: why})
	}
	return out, nil
}

func (sc *Scenario) untrusted() ([]policy.Principal, error) {
	var out []policy.Principal
	for _, s := range sc.UntrustedPrincipals {
		f := strings.Fields(s)
		if len(f) != 2 || (f[0] != "Service" && f[0] != "AWS") {
			return nil, fmt.Errorf("untrusted principal %q is not \"Service NAME\" or \"AWS ARN\"", s)
		}
		out = append(out, policy.Principal{Type: f[0], ID: f[1]})
	}
	return out, nil
}

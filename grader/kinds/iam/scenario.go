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

// need is a request a role must allow or deny, with why.
type need struct {
	policy.Request
	Why string
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

// agentNeeds is what the ECS agent does with the execution role to start
// the task: the ECR pull set, the awslogs writes and each secret.
func (sc *Scenario) agentNeeds() []need {
	repo := sc.repositoryARN()
	stream := sc.logStreamARN(sc.logStream("0f6a3c5e2b1d4e7f8a9b0c1d2e3f4a5b"))
	needs := []need{
		{policy.Request{Action: "ecr:GetAuthorizationToken", Resource: "*"}, "to log in to the private registry"},
		{policy.Request{Action: "ecr:BatchCheckLayerAvailability", Resource: repo}, "to pull the image"},
		{policy.Request{Action: "ecr:GetDownloadUrlForLayer", Resource: repo}, "to pull the image's layers"},
		{policy.Request{Action: "ecr:BatchGetImage", Resource: repo}, "to pull the image's manifest"},
		{policy.Request{Action: "logs:CreateLogStream", Resource: stream}, "for the awslogs driver to create the task's log stream"},
		{policy.Request{Action: "logs:PutLogEvents", Resource: stream}, "for the awslogs driver to write the container's output"},
	}
	for _, name := range slices.Sorted(maps.Keys(sc.Secrets)) {
		needs = append(needs, need{policy.Request{Action: "secretsmanager:GetSecretValue", Resource: sc.Secrets[name]}, "to fill " + name + " from Secrets Manager"})
	}
	return needs
}

// appNeeds is what the application does with the task role.
func (sc *Scenario) appNeeds() []need {
	var needs []need
	for _, r := range sc.Reads {
		needs = append(needs, need{policy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::" + r}, "for the app to read its report"})
	}
	return needs
}

// executionMustDeny: the app's needs (the agent never touches S3) and the
// scenario's list.
func (sc *Scenario) executionMustDeny() []need {
	var out []need
	for _, n := range sc.appNeeds() {
		n.Why = "S3 is the app's business, not the agent's"
		out = append(out, n)
	}
	list, _ := parseNeeds(sc.ExecutionMustDeny, "the agent does not need it")
	return append(out, list...)
}

// taskMustDeny: the agent's needs (the app never needs them) and the
// scenario's list.
func (sc *Scenario) taskMustDeny() []need {
	var out []need
	for _, n := range sc.agentNeeds() {
		n.Why = "that is the agent's job, done with the execution role"
		out = append(out, n)
	}
	list, _ := parseNeeds(sc.TaskMustDeny, "the app does not need it")
	return append(out, list...)
}

func parseNeeds(list []string, why string) ([]need, error) {
	var out []need
	for _, s := range list {
		f := strings.Fields(s)
		if len(f) != 2 {
			return nil, fmt.Errorf("request %q is not \"action resource\"", s)
		}
		out = append(out, need{policy.Request{Action: f[0], Resource: f[1]}, why})
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

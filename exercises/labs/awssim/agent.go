package awssim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// TaskSpec is what the agent needs from a task definition to start a task.
type TaskSpec struct {
	// Image is a private ECR image: ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG.
	Image            string
	ExecutionRoleARN string
	// Secrets maps an environment variable to the ARN of the Secrets
	// Manager secret that fills it (the task definition's secrets).
	Secrets map[string]string
	// LogGroup and LogStream are where the awslogs driver writes.
	LogGroup, LogStream string
}

// Agent plays the ECS agent's part in starting a task: everything it does
// before the container starts uses the execution role.
type Agent struct {
	// Addr is the simulator's host:port.
	Addr    string
	Region  string
	Service string // the principal that assumes the role: ecs-tasks.amazonaws.com
	HTTP    *http.Client
	// Step, when set, is told each step as it succeeds.
	Step func(msg string)
}

// StartError is a task that could not start, with the reason worded as ECS
// reports it on the stopped task.
type StartError struct {
	Stage  string // assume, registry-auth, secrets, pull, logs
	Reason string
	Cause  *APIError
}

func (e *StartError) Error() string { return e.Reason }

// Task is a task whose container may now start.
type Task struct {
	agent  *Agent
	client *Client
	spec   TaskSpec
	// Env holds the secrets' values, by variable name.
	Env map[string]string
	// ImageBytes counts the image bytes pulled (manifest and blobs).
	ImageBytes int
}

func (a *Agent) step(format string, args ...any) {
	if a.Step != nil {
		a.Step(fmt.Sprintf(format, args...))
	}
}

func apiErr(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return &APIError{Code: "RequestError", Message: err.Error()}
}

// Start assumes the execution role, gets the registry token, fetches the
// secrets, pulls the image and creates the log stream, in that order, and
// stops at the first failure as ECS does.
func (a *Agent) Start(ctx context.Context, spec TaskSpec) (*Task, error) {
	registry, repoTag, ok := strings.Cut(spec.Image, "/")
	repo, tag, hasTag := strings.Cut(repoTag, ":")
	if !ok || !hasTag || !strings.HasSuffix(registry, ".amazonaws.com") {
		return nil, fmt.Errorf("image %q is not an ECR image reference with a tag", spec.Image)
	}
	sts := &Client{HTTP: a.HTTP, Region: a.Region, Addr: a.Addr}
	creds, err := sts.AssumeRole(ctx, a.Service, spec.ExecutionRoleARN, "ecs-agent")
	if err != nil {
		e := apiErr(err)
		return nil, &StartError{Stage: "assume", Cause: e, Reason: fmt.Sprintf(
			"the task cannot start: %s cannot assume the execution role %s (%s)", a.Service, spec.ExecutionRoleARN, e)}
	}
	a.step("assumed the execution role %s", spec.ExecutionRoleARN)
	c := &Client{HTTP: a.HTTP, Region: a.Region, Addr: a.Addr, Creds: creds}
	t := &Task{agent: a, client: c, spec: spec, Env: map[string]string{}}

	var auth struct {
		AuthorizationData []struct {
			AuthorizationToken string `json:"authorizationToken"`
		} `json:"authorizationData"`
	}
	if err := c.JSON(ctx, "api.ecr."+a.Region+".amazonaws.com", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", map[string]any{}, &auth); err != nil {
		e := apiErr(err)
		return nil, &StartError{Stage: "registry-auth", Cause: e, Reason: "ResourceInitializationError: unable to pull secrets or registry auth: " +
			"get ECR authorization token: " + e.Error()}
	}
	if len(auth.AuthorizationData) == 0 {
		return nil, errors.New("GetAuthorizationToken returned no token")
	}
	raw, _ := base64.StdEncoding.DecodeString(auth.AuthorizationData[0].AuthorizationToken)
	_, token, _ := strings.Cut(string(raw), ":")
	basic := base64.StdEncoding.EncodeToString([]byte("AWS:" + token))
	a.step("got a registry token (ecr:GetAuthorizationToken)")

	for _, name := range sortedNames(spec.Secrets) {
		arn := spec.Secrets[name]
		var out struct {
			SecretString string `json:"SecretString"`
		}
		if err := c.JSON(ctx, "secretsmanager."+a.Region+".amazonaws.com", "secretsmanager.GetSecretValue", map[string]string{"SecretId": arn}, &out); err != nil {
			e := apiErr(err)
			return nil, &StartError{Stage: "secrets", Cause: e, Reason: "ResourceInitializationError: unable to pull secrets or registry auth: " +
				fmt.Sprintf("retrieve secret %s for %s: %s", arn, name, e)}
		}
		t.Env[name] = out.SecretString
		a.step("fetched %s from Secrets Manager", name)
	}

	pullErr := func(what string, resp *Response, err error) error {
		var e *APIError
		if err != nil {
			e = apiErr(err)
		} else {
			e = resp.Err()
		}
		return &StartError{Stage: "pull", Cause: e, Reason: fmt.Sprintf("CannotPullContainerError: pull image %s: %s: %d %s: %s",
			spec.Image, what, e.Status, http.StatusText(e.Status), e)}
	}
	resp, err := c.Registry(ctx, http.MethodGet, registry, "/v2/"+repo+"/manifests/"+tag, basic)
	if err != nil || resp.Err() != nil {
		return nil, pullErr("manifest "+tag, resp, err)
	}
	var manifest struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(resp.Body, &manifest); err != nil {
		return nil, fmt.Errorf("the image manifest is unreadable: %w", err)
	}
	t.ImageBytes += len(resp.Body)
	blobs := []string{manifest.Config.Digest}
	for _, l := range manifest.Layers {
		blobs = append(blobs, l.Digest)
	}
	for _, d := range blobs {
		if resp, err := c.Registry(ctx, http.MethodHead, registry, "/v2/"+repo+"/blobs/"+d, basic); err != nil || resp.Err() != nil {
			return nil, pullErr("check layer "+short(d), resp, err)
		}
		resp, err := c.Registry(ctx, http.MethodGet, registry, "/v2/"+repo+"/blobs/"+d, basic)
		if err != nil || resp.Err() != nil {
			return nil, pullErr("layer "+short(d), resp, err)
		}
		if got := digest(resp.Body); got != d {
			return nil, &StartError{Stage: "pull", Reason: fmt.Sprintf("CannotPullContainerError: pull image %s: layer %s arrived with digest %s", spec.Image, short(d), short(got))}
		}
		t.ImageBytes += len(resp.Body)
	}
	a.step("pulled %s (%d bytes, %d blobs)", spec.Image, t.ImageBytes, len(blobs))

	in := map[string]string{"logGroupName": spec.LogGroup, "logStreamName": spec.LogStream}
	if err := c.JSON(ctx, "logs."+a.Region+".amazonaws.com", "Logs_20140328.CreateLogStream", in, nil); err != nil {
		e := apiErr(err)
		return nil, &StartError{Stage: "logs", Cause: e, Reason: "CannotStartContainerError: failed to initialize logging driver: " +
			"failed to create CloudWatch log stream: " + e.Error()}
	}
	a.step("created log stream %s in %s", spec.LogStream, spec.LogGroup)
	return t, nil
}

// ShipLogs sends the container's output lines to its log stream, as the
// awslogs driver does, with the execution role.
func (t *Task) ShipLogs(ctx context.Context, lines []string) error {
	type event struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	now := time.Now().UnixMilli()
	events := make([]event, 0, len(lines))
	for _, l := range lines {
		events = append(events, event{Timestamp: now, Message: l})
	}
	in := map[string]any{"logGroupName": t.spec.LogGroup, "logStreamName": t.spec.LogStream, "logEvents": events}
	return t.client.JSON(ctx, "logs."+t.agent.Region+".amazonaws.com", "Logs_20140328.PutLogEvents", in, nil)
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

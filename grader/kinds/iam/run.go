package iam

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"coldstart/exercises/labs/awssim"
	"coldstart/exercises/labs/reportreader"
	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// Run check ids.
const (
	checkRunStart  = "iam.run-start"
	checkRunRead   = "iam.run-read"
	checkRunDenied = "iam.run-denied"
	checkRunLogs   = "iam.run-logs"
)

// simPort is where aws-sim listens; clients reach the services by name on
// the default HTTP port, as an SDK would (minus TLS).
const simPort = "80"

// appTimeout bounds how long the application may run.
const appTimeout = 20 * time.Second

func runChecks(sc *Scenario) []grader.Check {
	mk := func(id, title string) grader.Check {
		return grader.Check{ID: id, Title: title, Phase: grader.PhaseRun, MaxPoints: 1}
	}
	return []grader.Check{
		mk(checkRunStart, "The task starts: the agent pulls the image, fetches the secret and opens the log stream with the execution role"),
		mk(checkRunRead, "The app reads a daily report with the task role's credentials"),
		mk(checkRunDenied, "The app's forbidden calls are refused"),
		mk(checkRunLogs, "The container's output reaches CloudWatch Logs"),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runTask starts the task against the simulated endpoints and records the
// run checks.
func runTask(ctx context.Context, g *grader.Grading, sc *Scenario, p *parsed) error {
	checks := runChecks(sc)
	start, read, denied, logs := checks[0], checks[1], checks[2], checks[3]
	scope, err := sandbox.Open(ctx, g)
	if err != nil {
		return err
	}
	g.Running(start.ID, start.Title)
	nw, err := scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		return fmt.Errorf("create the task's network: %w", err)
	}

	taskID := randomHex(16)
	credID := randomHex(16)
	secrets := map[string]string{}
	for _, arn := range sc.Secrets {
		secrets[arn] = "pw-" + randomHex(8)
	}
	_, repo, tag := sc.imageParts()
	cfg := awssim.Config{
		Region: sc.Region, Account: sc.Account, Service: sc.Service,
		Roles: []awssim.Role{
			{Name: executionRoleName, TrustPolicy: p.sub.ExecutionRole.TrustPolicy, PermissionPolicy: p.sub.ExecutionRole.PermissionPolicy},
			{Name: taskRoleName, TrustPolicy: p.sub.TaskRole.TrustPolicy, PermissionPolicy: p.sub.TaskRole.PermissionPolicy},
		},
		Objects: sc.Objects, Secrets: secrets,
		Repositories: []awssim.Repository{{Name: repo, Tag: tag}},
		LogGroups:    []string{sc.LogGroup},
		Credentials:  map[string]string{credID: taskRoleName},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode the simulator's configuration: %w", err)
	}
	sim, err := scope.Start(ctx, sandbox.ContainerSpec{
		Name: "aws", Cmd: []string{"aws-sim"}, Networks: []string{nw.Name}, Aliases: cfg.Hosts(), MemoryMB: 64,
		Env: map[string]string{awssim.ConfigEnv: string(cfgJSON), "PORT": simPort},
	})
	if err != nil {
		return fmt.Errorf("start the AWS simulator: %w", err)
	}
	defer func() {
		if out, err := sim.Logs(context.WithoutCancel(ctx)); err == nil {
			g.Logf("— aws-sim (every authorisation decision) —\n%s", out)
		}
	}()
	ip, err := sim.IP(ctx, nw.Name)
	if err != nil {
		return err
	}
	addr := ip + ":" + simPort
	// The agent's calls go through a relay exec'd in the simulator's own
	// container, inside the task's network.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: sim.Transport()}
	if err := waitReady(ctx, hc, addr, sim); err != nil {
		return err
	}
	g.Progress(start.ID, "simulated AWS endpoints are up at %s", ip)

	agent := &awssim.Agent{Addr: addr, Region: sc.Region, Service: sc.Service, HTTP: hc,
		Step: func(msg string) { g.Progress(start.ID, "agent: %s", msg) }}
	stream := sc.logStream(taskID)
	task, err := agent.Start(ctx, awssim.TaskSpec{Image: sc.Image, ExecutionRoleARN: cfg.RoleARN(executionRoleName),
		Secrets: sc.Secrets, LogGroup: sc.LogGroup, LogStream: stream})
	var se *awssim.StartError
	switch {
	case errors.As(err, &se):
		start.Status = grader.CheckFail
		start.Message = "the task stopped before its container started: " + se.Reason
		start.Observed = se.Reason
		start.Field = docField(executionSide, "permissionPolicy")
		if se.Stage == "assume" {
			start.Field = docField(executionSide, "trustPolicy")
		}
		start.Hint = "Everything that happens before the container starts (image pull, secrets, log stream) is done by the agent with the execution role: check that role first."
		g.Add(start)
		g.SkipAll("the task never started, so the app did not run", read, denied, logs)
		return nil
	case err != nil:
		return fmt.Errorf("the simulated ECS agent could not talk to the AWS simulator: %w", err)
	}
	start.Status, start.Points = grader.CheckPass, 1
	start.Message = fmt.Sprintf("with the execution role the agent got a registry token, fetched %s, pulled %s (%d bytes) and created log stream %s in %s",
		strings.Join(slices.Sorted(maps.Keys(sc.Secrets)), ", "), sc.Image, task.ImageBytes, stream, sc.LogGroup)
	g.Add(start)

	g.Running(read.ID, read.Title)
	env := map[string]string{
		"AWS_REGION":                             sc.Region,
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/" + credID,
		reportreader.CredentialsHostEnv:          "aws",
		reportreader.ReadEnv:                     sc.Reads[0],
		reportreader.ProbesEnv:                   strings.Join(sc.Forbidden, ","),
	}
	for name, v := range task.Env {
		env[name] = v
	}
	app, err := scope.Start(ctx, sandbox.ContainerSpec{Name: sc.containerName(), Cmd: []string{"report-reader"},
		Networks: []string{nw.Name}, MemoryMB: 64, Env: env})
	if err != nil {
		return fmt.Errorf("start the app container: %w", err)
	}
	g.Progress(read.ID, "app container %s started with the task role's credential URI", sc.containerName())
	if err := waitExit(ctx, app); err != nil {
		return err
	}
	out, err := app.Logs(ctx)
	if err != nil {
		return err
	}
	g.Logf("— %s (the app) —\n%s", sc.containerName(), out)
	rep := reportreader.ParseLog(out)

	if rep.CredentialsError != "" {
		read.Status = grader.CheckFail
		read.Message = "the app got no credentials from the credential endpoint: " + rep.CredentialsError
		read.Observed = rep.CredentialsError
		read.Field = docField(taskSide, "trustPolicy")
		read.Hint = "The credential endpoint serves the task role only if " + sc.Service + " may assume it."
		g.Add(read)
		g.SkipAll("the app had no credentials, so it made no calls", denied)
	} else {
		g.Add(judgeRead(sc, rep, read, out))
		g.Add(judgeDenied(sc, rep, denied))
	}

	g.Running(logs.ID, logs.Title)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if err := task.ShipLogs(ctx, lines); err != nil {
		var ae *awssim.APIError
		if !errors.As(err, &ae) {
			return fmt.Errorf("deliver the app's logs: %w", err)
		}
		logs.Status = grader.CheckFail
		logs.Message = fmt.Sprintf("the awslogs driver could not write to %s: %s — the container ran, but its output is lost", stream, ae)
		logs.Observed = ae.Error()
		logs.Field = docField(executionSide, "permissionPolicy")
		logs.Hint = "The awslogs driver writes with the execution role: it needs logs:PutLogEvents as well as logs:CreateLogStream."
	} else {
		logs.Status, logs.Points = grader.CheckPass, 1
		logs.Message = fmt.Sprintf("PutLogEvents: %d lines of the app's output delivered to %s in %s with the execution role", len(lines), stream, sc.LogGroup)
	}
	g.Add(logs)
	return nil
}

func judgeRead(sc *Scenario, rep reportreader.Report, c grader.Check, out string) grader.Check {
	target := sc.Reads[0]
	o, ok := rep.Call("GetObject", target)
	switch {
	case !ok:
		c.Status = grader.CheckError
		c.Message = "the app did not report reading " + target + "; it may have crashed (see the log)"
	case o.OK:
		c.Status, c.Points = grader.CheckPass, 1
		c.Message = fmt.Sprintf("GetObject %s: %d OK, %d rows (%s) — the app reads its report with the task role (%s)", target, o.Status, o.Rows, o.Header, rep.Role)
		c.Observed = fmt.Sprintf("%d bytes", o.Bytes)
	case o.Code == "NetworkError":
		c.Status = grader.CheckError
		c.Message = "the app could not reach the simulated S3: " + o.Error
	default:
		c.Status = grader.CheckFail
		c.Message = fmt.Sprintf("GetObject %s: %s (%d) — the task role (%s) cannot read the report the app exists to read", target, o.Code, o.Status, rep.Role)
		c.Observed = o.Code + ": " + o.Error
		c.Expected = "200 OK"
		c.Field = docField(taskSide, "permissionPolicy")
		c.Hint = "The app calls S3 with the task role's credentials, never the execution role's."
	}
	return c
}

func judgeDenied(sc *Scenario, rep reportreader.Report, c grader.Check) grader.Check {
	var good, bad []string
	for _, f := range sc.Forbidden {
		op, target, _ := strings.Cut(f, " ")
		o, ok := rep.Call(op, target)
		switch {
		case !ok:
			c.Status = grader.CheckError
			c.Message = fmt.Sprintf("the app did not report its %s %s call; it may have crashed (see the log)", op, target)
			return c
		case o.Code == "NetworkError":
			c.Status = grader.CheckError
			c.Message = fmt.Sprintf("%s %s: the app could not reach the simulated service: %s", op, target, o.Error)
			return c
		case o.Code == "AccessDenied" || o.Code == "AccessDeniedException":
			good = append(good, fmt.Sprintf("%s %s: %s — good, the task role cannot %s", op, target, o.Code, capability(sc, op, target)))
		case o.OK:
			bad = append(bad, fmt.Sprintf("%s %s: %d OK — the task role can %s, and must not", op, target, o.Status, capability(sc, op, target)))
		default:
			bad = append(bad, fmt.Sprintf("%s %s: %s — the call got past authorisation, so the task role can %s, and must not", op, target, o.Code, capability(sc, op, target)))
		}
	}
	if len(bad) == 0 {
		c.Status, c.Points = grader.CheckPass, 1
		c.Message = strings.Join(good, "; ")
		return c
	}
	c.Status = grader.CheckFail
	c.Message = strings.Join(bad, "; ")
	c.Observed = strings.Join(bad, "; ")
	c.Expected = "AccessDenied for every call"
	c.Field = docField(taskSide, "permissionPolicy")
	c.Hint = "Grant the task role one action on one prefix; anything broader lets a compromised app write, delete or read other data."
	return c
}

// capability names what a forbidden call would let the app do.
func capability(sc *Scenario, op, target string) string {
	switch op {
	case "PutObject":
		return "write"
	case "DeleteObject":
		return "delete"
	case "GetSecretValue":
		return "read the secret itself (the agent injects it, with the execution role)"
	case "GetObject":
		bucket, _, _ := strings.Cut(target, "/")
		for _, r := range sc.Reads {
			if b, _, _ := strings.Cut(r, "/"); b == bucket {
				return "read outside its prefix"
			}
		}
		return "read other buckets"
	}
	return "call " + op
}

// waitReady polls the simulator's health endpoint until it answers.
func waitReady(ctx context.Context, hc *http.Client, addr string, sim *sandbox.Container) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		if st, serr := sim.State(ctx); serr == nil && !st.Running && st.Status != "created" {
			out, _ := sim.Logs(context.WithoutCancel(ctx))
			return fmt.Errorf("the AWS simulator exited with code %d before answering: %s", st.ExitCode, strings.TrimSpace(out))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the AWS simulator's container runs but did not answer at %s within 10 s (last: %v): %w", addr, last, ctx.Err())
		case <-time.After(30 * time.Millisecond):
		}
	}
}

// waitExit waits for a container to exit.
func waitExit(ctx context.Context, c *sandbox.Container) error {
	ctx, cancel := context.WithTimeout(ctx, appTimeout)
	defer cancel()
	for {
		st, err := c.State(ctx)
		if err != nil {
			return err
		}
		if !st.Running && st.Status != "created" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the app was still running after %s", appTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

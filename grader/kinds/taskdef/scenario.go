package taskdef

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"coldstart/grader"
)

// Scenario is the exercise's requirements, read from the scenario block of
// its front matter, so that a new scenario needs no Go code.
type Scenario struct {
	// Size bounds the task size (the budget), in CPU units and MiB.
	Size struct {
		MinCPU    int64 `yaml:"minCpu"`
		MaxCPU    int64 `yaml:"maxCpu"`
		MinMemory int64 `yaml:"minMemory"`
		MaxMemory int64 `yaml:"maxMemory"`
	} `yaml:"size"`
	App struct {
		Name       string `yaml:"name"`
		Repository string `yaml:"repository"`
		Port       int64  `yaml:"port"`
	} `yaml:"app"`
	// Secrets must reach the app through secrets, never environment.
	Secrets []struct {
		Name      string `yaml:"name"`
		ValueFrom string `yaml:"valueFrom"`
	} `yaml:"secrets"`
	Roles struct {
		Execution string `yaml:"execution"`
		Task      string `yaml:"task"`
	} `yaml:"roles"`
	Logs struct {
		Group  string `yaml:"group"`
		Region string `yaml:"region"`
	} `yaml:"logs"`
	// Health is what the app's health check must probe.
	Health struct {
		Path string `yaml:"path"`
	} `yaml:"health"`
	// Startup and Drain are the app's worst-case start-up and drain times.
	Startup Duration `yaml:"startup"`
	Drain   Duration `yaml:"drain"`
	// TimeScale compresses time in the run phase: 10 means a second of the
	// scenario lasts 100 ms.
	TimeScale float64 `yaml:"timeScale"`
	// WorkingSetMB is the memory the app really uses.
	WorkingSetMB int `yaml:"workingSetMB"`
	// Images maps an image repository to the lab program it runs.
	Images map[string]string `yaml:"images"`
	// SecretsManager is the simulated store: ARN to value.
	SecretsManager map[string]string `yaml:"secretsManager"`
}

// Duration is a YAML duration such as "10s".
type Duration struct{ time.Duration }

// UnmarshalYAML reads "10s" or a number of seconds.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		d.Duration = time.Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 10s", s)
	}
	d.Duration = v
	return nil
}

// validate fills defaults and refuses a scenario the grader cannot use.
func (s *Scenario) validate() error {
	if s.App.Name == "" || s.App.Repository == "" {
		return fmt.Errorf("scenario: app.name and app.repository are required")
	}
	if s.App.Port == 0 {
		s.App.Port = 8080
	}
	if s.Health.Path == "" {
		s.Health.Path = "/healthz"
	}
	if s.TimeScale <= 0 {
		s.TimeScale = 10
	}
	if s.Startup.Duration <= 0 {
		s.Startup.Duration = 10 * time.Second
	}
	if s.Drain.Duration <= 0 {
		s.Drain.Duration = 20 * time.Second
	}
	if _, ok := s.Images[s.App.Repository]; !ok {
		return fmt.Errorf("scenario: images has no lab for the app repository %s", s.App.Repository)
	}
	return nil
}

// scenarioRules are the exercise's requirements 1–10.
func scenarioRules(sc *Scenario) []rule {
	return []rule{
		{id: "scenario.fargate", title: "The task runs on Fargate", check: sc.checkFargate},
		{id: "scenario.task-size", title: "The task size fits the service and the budget", check: sc.checkSize},
		{id: "scenario.app-container", title: "One essential app container runs the api-worker image", check: sc.checkApp},
		{id: "taskdef.image-tag", title: "Images are pinned by an immutable tag or digest", check: sc.checkImageTag},
		{id: "scenario.port", title: "The app's port is mapped", check: sc.checkPort},
		{id: "scenario.secret", title: "The database password comes from Secrets Manager", check: sc.checkSecret},
		{id: "scenario.roles", title: "Execution role and task role are the right ones", check: sc.checkRoles},
		{id: "scenario.logs", title: "Logs go to CloudWatch through awslogs", check: sc.checkLogs},
		{id: "scenario.health-check", title: "The health check probes the app's health endpoint", check: sc.checkHealthCommand},
		{id: "scenario.health-startup", title: "The health check lets the app start up", check: sc.checkHealthStartup},
		{id: "scenario.stop-timeout", title: "The stop timeout covers the drain", check: sc.checkStopTimeout},
		{id: "scenario.sidecars", title: "Sidecars are not essential", check: sc.checkSidecars},
	}
}

// app returns the app container and its index, or -1.
func (sc *Scenario) app(td *TaskDefinition) (ContainerDefinition, int) {
	for i, c := range td.ContainerDefinitions {
		if c.Name == sc.App.Name {
			return c, i
		}
	}
	return ContainerDefinition{}, -1
}

func (sc *Scenario) needApp(td *TaskDefinition) (ContainerDefinition, int, []finding) {
	c, i := sc.app(td)
	if i < 0 {
		return c, i, []finding{{field: "/containerDefinitions", message: fmt.Sprintf("there is no container named %q", sc.App.Name), hint: fmt.Sprintf("Name the app container %q.", sc.App.Name)}}
	}
	return c, i, nil
}

func (sc *Scenario) checkFargate(td *TaskDefinition) ([]finding, string) {
	var out []finding
	if !isFargate(td) {
		out = append(out, finding{field: "/requiresCompatibilities", message: "requiresCompatibilities must include FARGATE, or ECS will only place the task on EC2 instances you run",
			observed: fmt.Sprint(td.RequiresCompatibilities), expected: `["FARGATE"]`})
	}
	if td.NetworkMode != "awsvpc" {
		out = append(out, finding{field: "/networkMode", message: "networkMode must be awsvpc", observed: td.NetworkMode, expected: "awsvpc"})
	}
	return out, ""
}

func (sc *Scenario) checkSize(td *TaskDefinition) ([]finding, string) {
	cpu, mem, out := taskSize(td)
	if len(out) > 0 {
		return out, ""
	}
	lim := sc.Size
	if (lim.MinCPU > 0 && cpu < lim.MinCPU) || (lim.MaxCPU > 0 && cpu > lim.MaxCPU) {
		out = append(out, finding{field: "/cpu", message: fmt.Sprintf("the task has %s; the service needs at least %s and the budget allows at most %s", vcpu(cpu), vcpu(lim.MinCPU), vcpu(lim.MaxCPU)),
			observed: vcpu(cpu), expected: fmt.Sprintf("%s to %s", vcpu(lim.MinCPU), vcpu(lim.MaxCPU))})
	}
	if (lim.MinMemory > 0 && mem < lim.MinMemory) || (lim.MaxMemory > 0 && mem > lim.MaxMemory) {
		out = append(out, finding{field: "/memory", message: fmt.Sprintf("the task has %d MiB; the service needs at least %d MiB and the budget allows at most %d MiB", mem, lim.MinMemory, lim.MaxMemory),
			observed: fmt.Sprintf("%d MiB", mem), expected: fmt.Sprintf("%d–%d MiB", lim.MinMemory, lim.MaxMemory)})
	}
	return out, ""
}

// splitImage returns an image's repository and its tag or digest.
func splitImage(img string) (repo, tag, digest string) {
	if i := strings.Index(img, "@"); i >= 0 {
		img, digest = img[:i], img[i+1:]
	}
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		img, tag = img[:i], img[i+1:]
	}
	return img, tag, digest
}

func (sc *Scenario) checkApp(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	if !c.IsEssential() {
		out = append(out, finding{field: cptr(i, "/essential"), message: "the app container must be essential: if it stops, the task should stop and be replaced", observed: "false", expected: "true or absent"})
	}
	if repo, _, _ := splitImage(c.Image); repo != sc.App.Repository {
		out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("the app container runs %q; it must run the repository %s", grader.Clip(c.Image), sc.App.Repository),
			observed: grader.Clip(repo), expected: sc.App.Repository})
	}
	return out, ""
}

func (sc *Scenario) checkImageTag(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		if c.Image == "" {
			continue
		}
		_, tag, digest := splitImage(c.Image)
		switch {
		case digest != "":
		case tag == "":
			out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("%s has no tag, which means :latest", label(c, i)),
				observed: grader.Clip(c.Image), expected: "an immutable tag such as the git commit (…:3f9c2ab) or a version (…:1.4.2), or @sha256:…",
				hint: "A moving tag makes rollbacks guesswork: the same task definition can run different code."})
		case tag == "latest":
			out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("%s uses the moving tag latest", label(c, i)),
				observed: grader.Clip(c.Image), expected: "an immutable tag such as the git commit or a version, or @sha256:…",
				hint: "ECS pins the digest at deploy time, so re-tagging latest changes nothing until the next deploy, and you can't tell which code a revision runs."})
		}
	}
	return out, ""
}

func (sc *Scenario) checkPort(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	for j, p := range c.PortMappings {
		if p.ContainerPort != nil && *p.ContainerPort == sc.App.Port {
			at := cptr(i, fmt.Sprintf("/portMappings/%d", j))
			if p.HostPort != nil && *p.HostPort != sc.App.Port {
				return []finding{{field: at + "/hostPort", message: fmt.Sprintf("hostPort must be absent or %d", sc.App.Port), observed: fmt.Sprint(*p.HostPort)}}, ""
			}
			if p.Protocol != "" && p.Protocol != "tcp" {
				return []finding{{field: at + "/protocol", message: "the app speaks HTTP, which runs over tcp", observed: p.Protocol, expected: "tcp"}}, ""
			}
			return nil, ""
		}
	}
	var got []string
	for _, p := range c.PortMappings {
		if p.ContainerPort != nil {
			got = append(got, fmt.Sprint(*p.ContainerPort))
		}
	}
	observed := "no port mappings"
	if len(got) > 0 {
		observed = "containerPort " + strings.Join(got, ", ")
	}
	return []finding{{field: cptr(i, "/portMappings"), message: fmt.Sprintf("the app listens on port %d, but no port mapping has containerPort %d", sc.App.Port, sc.App.Port),
		observed: observed, expected: fmt.Sprintf(`{"containerPort": %d, "protocol": "tcp"}`, sc.App.Port)}}, ""
}

func (sc *Scenario) checkSecret(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	for _, want := range sc.Secrets {
		for j, e := range c.Environment {
			if e.Name == want.Name {
				out = append(out, finding{field: cptr(i, fmt.Sprintf("/environment/%d", j)),
					message:  fmt.Sprintf("%s is a plain environment value: anyone who can read the task definition can read it", want.Name),
					observed: "environment", expected: "secrets, valueFrom " + want.ValueFrom,
					hint: "Move it to secrets with valueFrom set to the secret's ARN; the execution role fetches it when the task starts."})
			}
		}
		found := false
		for j, s := range c.Secrets {
			if s.Name != want.Name {
				continue
			}
			found = true
			if baseARN(s.ValueFrom) != baseARN(want.ValueFrom) {
				out = append(out, finding{field: cptr(i, fmt.Sprintf("/secrets/%d/valueFrom", j)), message: fmt.Sprintf("%s comes from the wrong secret", want.Name),
					observed: grader.Clip(s.ValueFrom), expected: want.ValueFrom})
			}
		}
		if !found && len(out) == 0 {
			out = append(out, finding{field: cptr(i, "/secrets"), message: fmt.Sprintf("the app needs %s from Secrets Manager, and no secret provides it", want.Name),
				expected: fmt.Sprintf(`{"name": %q, "valueFrom": %q}`, want.Name, want.ValueFrom)})
		}
	}
	return out, ""
}

// baseARN drops the optional json-key:version-stage:version-id suffix of a
// Secrets Manager ARN.
func baseARN(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 7 && parts[2] == "secretsmanager" {
		return strings.Join(parts[:7], ":")
	}
	return arn
}

func (sc *Scenario) checkRoles(td *TaskDefinition) ([]finding, string) {
	var out []finding
	swapped := td.ExecutionRoleArn == sc.Roles.Task && td.TaskRoleArn == sc.Roles.Execution && sc.Roles.Task != ""
	if swapped {
		return []finding{{field: "/executionRoleArn", message: "the two roles are swapped: the execution role is for the ECS agent (pull the image, write logs, fetch secrets); the task role is for your code",
			observed: "executionRoleArn " + grader.Clip(td.ExecutionRoleArn), expected: "executionRoleArn " + sc.Roles.Execution + ", taskRoleArn " + sc.Roles.Task,
			hint: "With them swapped the agent cannot pull the image or fetch DB_PASSWORD, and the app runs with the agent's powers."}}, ""
	}
	if td.ExecutionRoleArn != sc.Roles.Execution {
		out = append(out, finding{field: "/executionRoleArn", message: "the execution role lets the agent pull from ECR, write awslogs and fetch the secret",
			observed: orAbsent(td.ExecutionRoleArn), expected: sc.Roles.Execution})
	}
	if td.TaskRoleArn != sc.Roles.Task {
		out = append(out, finding{field: "/taskRoleArn", message: "the task role gives the app its own AWS credentials",
			observed: orAbsent(td.TaskRoleArn), expected: sc.Roles.Task})
	}
	return out, ""
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return grader.Clip(s)
}

func (sc *Scenario) checkLogs(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	at := cptr(i, "/logConfiguration")
	lc := c.LogConfiguration
	if lc == nil || lc.LogDriver != "awslogs" {
		drv := "none"
		if lc != nil {
			drv = lc.LogDriver
		}
		return []finding{{field: at, message: "the app's logs must go to CloudWatch Logs through the awslogs driver", observed: drv, expected: "awslogs"}}, ""
	}
	if g := lc.Options["awslogs-group"]; g != sc.Logs.Group {
		out = append(out, finding{field: at + "/options/awslogs-group", message: "the log group is " + sc.Logs.Group, observed: orAbsent(g), expected: sc.Logs.Group})
	}
	if r := lc.Options["awslogs-region"]; r != sc.Logs.Region {
		out = append(out, finding{field: at + "/options/awslogs-region", message: "the log group lives in " + sc.Logs.Region, observed: orAbsent(r), expected: sc.Logs.Region})
	}
	if lc.Options["awslogs-stream-prefix"] == "" {
		out = append(out, finding{field: at + "/options", message: "set awslogs-stream-prefix so each task's stream is named after it", expected: "a prefix such as api-worker"})
	}
	return out, ""
}

var urlRE = regexp.MustCompile(`(?:https?://)?(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]+)?(?:/[^\s'"|;&)]*)?`)

// healthURLs returns the local URLs a health-check command mentions.
func healthURLs(cmd []string) []*url.URL {
	var out []*url.URL
	for _, part := range cmd[1:] {
		for _, m := range urlRE.FindAllString(part, -1) {
			if !strings.Contains(m, "://") {
				m = "http://" + m
			}
			if u, err := url.Parse(m); err == nil {
				out = append(out, u)
			}
		}
	}
	return out
}

func (sc *Scenario) checkHealthCommand(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	want := fmt.Sprintf("http://localhost:%d%s", sc.App.Port, sc.Health.Path)
	if c.HealthCheck == nil || len(c.HealthCheck.Command) < 2 {
		return []finding{{field: cptr(i, "/healthCheck"), message: "the app container has no health check, so ECS cannot tell a hung app from a healthy one",
			expected: fmt.Sprintf(`["CMD-SHELL", "curl -f %s || exit 1"]`, want)}}, ""
	}
	if hc := c.HealthCheck.Command; hc[0] == "CMD-SHELL" && len(hc) > 2 {
		// No source says ECS refuses this at registration, so it is not a
		// registration rule; but the documented form is one string.
		return []finding{{field: cptr(i, "/healthCheck/command"), message: `CMD-SHELL takes the whole shell command as one string, as Docker's health check does (["CMD-SHELL", command])`,
			observed: fmt.Sprintf("%d strings after CMD-SHELL", len(hc)-1), expected: fmt.Sprintf(`["CMD-SHELL", "curl -f %s || exit 1"]`, want)}}, ""
	}
	urls := healthURLs(c.HealthCheck.Command)
	for _, u := range urls {
		port := u.Port()
		if port == "" {
			port = "80"
		}
		if port == strconv.FormatInt(sc.App.Port, 10) && u.Path == sc.Health.Path {
			return nil, ""
		}
	}
	observed := strings.Join(c.HealthCheck.Command, " ")
	return []finding{{field: cptr(i, "/healthCheck/command"), message: "the health check does not request " + want,
		observed: grader.Clip(observed), expected: fmt.Sprintf(`a command such as "curl -f %s || exit 1"`, want),
		hint: "A health check on another port or path fails even when the app is fine (or passes when it is not)."}}, ""
}

// firstUnhealthy simulates Docker's health checks during start-up: probes
// run every interval from the start; until the app has started (worst case
// startup) they fail, and failures inside the start period do not count.
// It returns the time the container is marked unhealthy, or 0.
func firstUnhealthy(interval, retries, startPeriod int64, startup time.Duration) time.Duration {
	fails := int64(0)
	for t := time.Duration(interval) * time.Second; t <= startup; t += time.Duration(interval) * time.Second {
		if t < time.Duration(startPeriod)*time.Second {
			continue
		}
		fails++
		if fails >= retries {
			return t
		}
	}
	return 0
}

func (sc *Scenario) checkHealthStartup(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	if c.HealthCheck == nil {
		return nil, "the app container has no health check"
	}
	iv, _, re, sp := c.HealthCheck.Effective()
	if iv <= 0 || re <= 0 {
		return nil, "the health check's settings are out of range"
	}
	if at := firstUnhealthy(iv, re, sp, sc.Startup.Duration); at > 0 {
		return []finding{{field: cptr(i, "/healthCheck"),
			message:  fmt.Sprintf("the app needs up to %s to start; with interval %d s, retries %d and startPeriod %d s the task is marked unhealthy after %s and replaced before it ever serves", sc.Startup.Duration, iv, re, sp, at),
			observed: fmt.Sprintf("interval %d s, retries %d, startPeriod %d s", iv, re, sp),
			expected: fmt.Sprintf("a startPeriod longer than the %s start-up, or enough retries × interval to cover it", sc.Startup.Duration),
			hint:     "Failures inside startPeriod do not count; set it comfortably above the start-up time."}}, ""
	}
	return nil, ""
}

func (sc *Scenario) checkStopTimeout(td *TaskDefinition) ([]finding, string) {
	c, i, out := sc.needApp(td)
	if out != nil {
		return out, ""
	}
	st := c.EffectiveStopTimeout()
	if time.Duration(st)*time.Second < sc.Drain.Duration {
		src := fmt.Sprintf("%d s", st)
		if c.StopTimeout == nil {
			src += " (Fargate's default)"
		}
		return []finding{{field: cptr(i, "/stopTimeout"),
			message:  fmt.Sprintf("the app needs up to %s to drain requests in flight after SIGTERM; a stop timeout of %s sends SIGKILL before it is done", sc.Drain.Duration, src),
			observed: src, expected: fmt.Sprintf("at least %d s (and at most 120 s)", int64(sc.Drain.Seconds())),
			hint: "stopTimeout is the time between SIGTERM and SIGKILL."}}, ""
	}
	return nil, ""
}

func (sc *Scenario) checkSidecars(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		if c.Name != sc.App.Name && c.IsEssential() {
			out = append(out, finding{field: cptr(i, "/essential"), message: fmt.Sprintf("sidecar %s is essential, so its exit or crash would stop the whole task", label(c, i)),
				observed: "essential (true, or absent)", expected: "false"})
		}
	}
	return out, ""
}

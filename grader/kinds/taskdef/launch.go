package taskdef

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"coldstart/grader"
	"coldstart/grader/sandbox"
)

// start plays the agent's part: pull (map to a lab), fetch secrets, create
// the task's network interface, start the containers in dependsOn order.
func (r *runner) start(ctx context.Context) bool {
	const id = "run.start"
	r.g.Running(id, "Starting the task")
	// The execution role is what pulls the image and fetches secrets.
	if want := r.sc.Roles.Execution; want != "" && r.td.ExecutionRoleArn != want {
		r.fail(id, finding{field: "/executionRoleArn",
			message:  fmt.Sprintf("CannotPullContainerError: the task's execution role %s may not pull from ECR (AccessDenied), so the task stopped before any container started", orAbsent(r.td.ExecutionRoleArn)),
			observed: "task stopped in PROVISIONING", expected: "executionRoleArn " + want,
			hint: "Image pulls, awslogs and secrets use the execution role, not the task role."})
		return false
	}
	plan, ok := r.plan(id)
	if !ok {
		return false
	}
	nw, err := r.scope.Network(ctx, sandbox.NetworkSpec{})
	if err != nil {
		r.busy(id, "the grader could not create the task's network: "+err.Error(), "")
		return false
	}
	r.net = nw
	r.client = &http.Client{Transport: r.scope.Transport(nw)}
	// The relay the probes go through starts beside the task's containers.
	r.scope.WarmRelay(ctx, nw)
	r.g.Progress(id, "network interface ready")

	if !r.startInOrder(ctx, id, plan) {
		return false
	}
	return r.started(ctx, id, len(plan))
}

// planned is one container of the task as the sandbox will start it.
type planned struct {
	def  ContainerDefinition
	idx  int
	spec sandbox.ContainerSpec
}

// plan maps each container definition to a lab container: its image, its
// environment with the secrets resolved, its limits and health check.
func (r *runner) plan(id string) ([]planned, bool) {
	var plan []planned
	taskCPU, taskMem := int64(0), int64(0)
	if r.td.Cpu != nil {
		taskCPU, _ = ParseCPU(*r.td.Cpu)
	}
	if r.td.Memory != nil {
		taskMem, _ = ParseMemory(*r.td.Memory)
	}
	// The scope applies the server's caps; the defaults are what it reports.
	limits := sandbox.DefaultLimits
	for i, c := range r.td.ContainerDefinitions {
		repo, _, _ := splitImage(c.Image)
		lab, ok := r.sc.Images[repo]
		if !ok {
			r.fail(id, finding{field: cptr(i, "/image"),
				message:  fmt.Sprintf("CannotPullContainerError: pull image %s: repository %s not found: the task stopped before it started", grader.Clip(c.Image), grader.Clip(repo)),
				observed: "task stopped: CannotPullContainerError", expected: "an image from a repository that exists, such as " + r.sc.App.Repository})
			return nil, false
		}
		env, ok := r.environment(id, i, c)
		if !ok {
			return nil, false
		}
		mem := taskMem
		if c.Memory != nil && *c.Memory > 0 {
			mem = *c.Memory
		}
		if mem < 6 {
			mem = 6 // Docker's smallest limit
		}
		capped := false
		if mem > limits.MaxMemoryMB {
			mem, capped = limits.MaxMemoryMB, true
		}
		units := taskCPU
		if c.Cpu != nil && *c.Cpu > 0 {
			units = *c.Cpu
		}
		nano := units * 1e9 / 1024
		nano = min(max(nano, 5e7), limits.MaxNanoCPUs)
		spec := sandbox.ContainerSpec{Name: c.Name, Cmd: []string{lab}, Env: env, Networks: nil, MemoryMB: mem, NanoCPUs: nano}
		if h := c.HealthCheck; h != nil && len(h.Command) >= 2 {
			iv, to, re, sp := h.Effective()
			spec.Health = &sandbox.HealthCheck{Test: h.Command, Interval: r.secs(iv), Timeout: max(r.secs(to), minProbeTimeout),
				StartPeriod: r.secs(sp), Retries: int(re)}
		}
		if len(c.Command) > 0 || len(c.EntryPoint) > 0 {
			r.g.Logf("note: %s sets command or entryPoint; the lab %s runs its own program", c.Name, lab)
		}
		if i == r.appIndex {
			r.memLimit, r.memCapped = mem, capped
			r.appPort = "8080"
			if p := env["PORT"]; p != "" {
				// The grader builds its requests from this value, so it is
				// checked before it goes anywhere.
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					r.fail(id, finding{field: cptr(i, "/environment"),
						message:  fmt.Sprintf("the app exited at start: PORT is %q, which is not a TCP port (1-65535), so it could not listen", grader.Clip(p)),
						observed: "app STOPPED: cannot listen", expected: fmt.Sprintf("PORT %d, or no PORT", r.sc.App.Port)})
					return nil, false
				}
				r.appPort = p
			}
		}
		plan = append(plan, planned{def: c, idx: i, spec: spec})
	}
	return plan, true
}

// environment is a container's environment as the agent gives it: the
// plain variables, the secrets it fetched, and the lab's own settings.
func (r *runner) environment(id string, i int, c ContainerDefinition) (map[string]string, bool) {
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	for j, s := range c.Secrets {
		v, ok := r.lookupSecret(s.ValueFrom)
		if !ok {
			r.fail(id, finding{field: cptr(i, fmt.Sprintf("/secrets/%d/valueFrom", j)),
				message:  fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: the agent could not retrieve the secret %s, which does not exist, so the task stopped before it started", grader.Clip(s.ValueFrom)),
				observed: "task stopped: ResourceInitializationError", expected: "a secret that exists in Secrets Manager"})
			return nil, false
		}
		env[s.Name] = v
	}
	// The lab's own settings: the compressed timings of the scenario.
	env["STARTUP_DELAY"] = r.scaled(r.sc.Startup.Duration).String()
	env["WORKING_SET_MB"] = strconv.Itoa(r.sc.WorkingSetMB)
	if len(r.sc.Secrets) > 0 {
		if v, ok := r.lookupSecret(r.sc.Secrets[0].ValueFrom); ok {
			sum := sha256.Sum256([]byte(v))
			env["EXPECT_DB_PASSWORD_SHA256"] = hex.EncodeToString(sum[:])
		}
	}
	return env, true
}

// startInOrder starts the containers in dependsOn order: a container starts
// once every dependency meets its condition. Independent containers start
// together.
func (r *runner) startInOrder(ctx context.Context, id string, plan []planned) bool {
	nw := r.net
	started := map[string]bool{}
	deadline := time.Now().Add(r.healthDeadline() + 10*time.Second)
	for len(started) < len(plan) {
		var ready []planned
		for _, p := range plan {
			if started[p.def.Name] {
				continue
			}
			ok, why := r.depsMet(ctx, p.def, started)
			if why != "" {
				r.fail(id, finding{field: cptr(p.idx, "/dependsOn"), message: why, observed: p.def.Name + " was never started"})
				return false
			}
			if ok {
				ready = append(ready, p)
			}
		}
		if len(ready) == 0 {
			if time.Now().After(deadline) || ctx.Err() != nil {
				r.fail(id, finding{field: "/containerDefinitions", message: "some containers waited for dependencies that never met their condition, so they never started"})
				return false
			}
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ready))
		for k, p := range ready {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.spec.Networks = []string{nw.Name}
				c, err := r.scope.Start(ctx, p.spec)
				if err != nil {
					errs[k] = err
					return
				}
				r.g.Progress(id, "container %s started", p.def.Name)
				r.mu.Lock()
				r.containers[p.def.Name] = c
				r.mu.Unlock()
			}()
		}
		wg.Wait()
		for k, p := range ready {
			if errs[k] != nil {
				if ctx.Err() != nil {
					return false
				}
				r.busy(id, fmt.Sprintf("the grader could not start container %s: %v", p.def.Name, errs[k]), "")
				return false
			}
			started[p.def.Name] = true
		}
	}
	return true
}

// started reads the app's address and records the start.
func (r *runner) started(ctx context.Context, id string, n int) bool {
	nw := r.net
	limits := sandbox.DefaultLimits
	r.app = r.containers[r.appDef.Name]
	ip, err := r.app.IP(ctx, nw.Name)
	if err != nil {
		// A container that already exited (killed for memory at start-up,
		// say) has no address any more; the health watch reports why.
		if st, serr := r.app.State(ctx); serr == nil && !st.Running {
			r.pass(id, fmt.Sprintf("%d container(s) started, but the app stopped right away", n), "task RUNNING, then app STOPPED")
			return true
		}
		r.busy(id, "the grader could not read the app's address: "+err.Error(), "")
		return false
	}
	r.appIP = ip
	r.g.Progress(id, "task ENI → %s", ip)
	mem := fmt.Sprintf("%d MiB", r.memLimit)
	if r.memCapped {
		mem += fmt.Sprintf(" (capped by the grader at %d MiB)", limits.MaxMemoryMB)
	}
	r.pass(id, fmt.Sprintf("%d container(s) started on the task's network; the app got %s with a memory limit of %s; time runs %g× faster than on ECS",
		n, ip, mem, r.sc.TimeScale), "task RUNNING")
	return true
}

// lookupSecret resolves a valueFrom in the simulated Secrets Manager,
// including a json-key suffix.
func (r *runner) lookupSecret(valueFrom string) (string, bool) {
	if v, ok := r.sc.SecretsManager[valueFrom]; ok {
		return v, true
	}
	v, ok := r.sc.SecretsManager[baseARN(valueFrom)]
	if !ok {
		return "", false
	}
	parts := strings.Split(valueFrom, ":")
	if len(parts) > 7 && parts[7] != "" {
		var m map[string]any
		if json.Unmarshal([]byte(v), &m) != nil {
			return "", false
		}
		s, ok := m[parts[7]].(string)
		return s, ok
	}
	return v, true
}

// depsMet says whether c's dependencies meet their conditions now, or why
// they never will.
func (r *runner) depsMet(ctx context.Context, c ContainerDefinition, started map[string]bool) (bool, string) {
	for _, d := range c.DependsOn {
		if !started[d.ContainerName] {
			return false, ""
		}
		r.mu.Lock()
		dep := r.containers[d.ContainerName]
		r.mu.Unlock()
		st, err := dep.State(ctx)
		if err != nil {
			return false, ""
		}
		switch d.Condition {
		case "HEALTHY":
			if st.Health == "unhealthy" || !st.Running {
				return false, fmt.Sprintf("%s waits for %s to be HEALTHY, but %s became %s", c.Name, d.ContainerName, d.ContainerName, orAbsent(st.Health+" "+st.Status))
			}
			if st.Health != "healthy" {
				return false, ""
			}
		case "COMPLETE", "SUCCESS":
			if st.Running {
				return false, ""
			}
			if d.Condition == "SUCCESS" && st.ExitCode != 0 {
				return false, fmt.Sprintf("%s waits for %s to succeed, but it exited with code %d", c.Name, d.ContainerName, st.ExitCode)
			}
		}
	}
	return true, ""
}

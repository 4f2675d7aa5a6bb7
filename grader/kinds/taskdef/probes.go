package taskdef

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"coldstart/grader"
)

func (r *runner) url(port, path string) string {
	return "http://" + net.JoinHostPort(r.appIP, port) + path
}

// get requests a path on the app through the relay inside the task's
// network and returns the status, or 0.
func (r *runner) get(ctx context.Context, port, path string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url(port, path), nil)
	if err != nil {
		return 0
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.lastErr = err
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode
}

func (r *runner) port(ctx context.Context) {
	const id = "run.port"
	r.g.Running(id, "Requesting the app on its mapped port")
	var ports []int64
	for _, p := range r.appDef.PortMappings {
		if p.ContainerPort == nil {
			continue
		}
		if n := *p.ContainerPort; n < 1 || n > 65535 {
			r.fail(id, finding{field: cptr(r.appIndex, "/portMappings"), message: fmt.Sprintf("containerPort %d is not a TCP port (1-65535), so nothing can be sent to it", n),
				expected: fmt.Sprintf("containerPort %d", r.sc.App.Port)})
			return
		}
		ports = append(ports, *p.ContainerPort)
	}
	if len(ports) == 0 {
		r.fail(id, finding{field: cptr(r.appIndex, "/portMappings"), message: "the app container maps no port, so a load balancer target group could not send it traffic",
			expected: fmt.Sprintf("containerPort %d", r.sc.App.Port)})
		return
	}
	var tried []string
	for _, p := range ports {
		port := strconv.FormatInt(p, 10)
		began := time.Now()
		var code int
		for attempt := 0; attempt < 3 && code == 0; attempt++ {
			if code = r.get(ctx, port, r.sc.Health.Path); code == 0 {
				sleep(ctx, 200*time.Millisecond)
			}
		}
		if code != 0 {
			r.pass(id, fmt.Sprintf("GET %s answered %d in %d ms", r.url(port, r.sc.Health.Path), code, time.Since(began).Milliseconds()), "HTTP "+strconv.Itoa(code))
			return
		}
		tried = append(tried, port)
	}
	r.fail(id, finding{field: cptr(r.appIndex, "/portMappings/0/containerPort"),
		message:  fmt.Sprintf("nothing answered at %s on port %s, the port(s) you mapped; the app listens on %s", r.appIP, strings.Join(tried, ", "), r.appPort),
		observed: "connection refused on " + strings.Join(tried, ", "), expected: "containerPort " + r.appPort})
}

func (r *runner) secret(ctx context.Context) {
	const id = "run.secret"
	if len(r.sc.Secrets) == 0 {
		r.record(grader.Check{ID: id, Status: grader.CheckSkip, Message: "this scenario has no secret"})
		return
	}
	r.g.Running(id, "Asking the app whether it got its password")
	name := r.sc.Secrets[0].Name
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, r.url(r.appPort, "/secret"), nil)
	resp, err := r.client.Do(req)
	if err != nil {
		r.fail(id, finding{message: "the app did not answer when asked about " + name, observed: err.Error()})
		return
	}
	defer resp.Body.Close()
	var body struct {
		DBPassword string `json:"dbPassword"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil {
		r.fail(id, finding{message: "the app's answer about " + name + " could not be read", observed: err.Error()})
		return
	}
	switch body.DBPassword {
	case "ok":
		r.pass(id, name+" holds the secret's value", name+" ok")
	case "missing":
		r.fail(id, finding{field: cptr(r.appIndex, "/secrets"), message: "the app started without " + name + ", so it cannot reach its database",
			observed: name + " not set", expected: name + " from " + r.sc.Secrets[0].ValueFrom})
	default:
		r.fail(id, finding{field: cptr(r.appIndex, "/secrets"), message: name + " holds a value other than the secret's: the app cannot log in to its database",
			observed: name + " is set, but wrong", expected: name + " from " + r.sc.Secrets[0].ValueFrom})
	}
}

// memory checks that the app was not killed for memory, watching for up to
// wait in case a kill is under way.
func (r *runner) memory(ctx context.Context, wait time.Duration) {
	const id = "run.memory"
	end := time.Now().Add(wait)
	for {
		st, err := r.app.State(ctx)
		if err != nil {
			r.busy(id, "the grader could not inspect the app container: "+err.Error(), "")
			return
		}
		if st.OOMKilled || !st.Running {
			r.appExited(id, st)
			return
		}
		if time.Now().After(end) || ctx.Err() != nil {
			break
		}
		sleep(ctx, 200*time.Millisecond)
	}
	r.pass(id, fmt.Sprintf("the app holds its working set of %d MiB within its %d MiB limit", r.sc.WorkingSetMB, r.memLimit), "running, not OOM-killed")
}

func (r *runner) healthCommand(ctx context.Context) {
	const id = "run.health-command"
	h := r.appDef.HealthCheck
	if h == nil || len(h.Command) < 2 {
		r.record(grader.Check{ID: id, Status: grader.CheckSkip, Message: "the app container has no health check"})
		return
	}
	r.g.Running(id, "Running the health check while /healthz fails")
	if err := r.control(ctx, true); err != nil {
		r.busy(id, "the grader could not make the app report failure: "+err.Error(), "")
		return
	}
	cmd := h.Command[1:]
	if h.Command[0] == "CMD-SHELL" {
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Command[1:], " ")}
	}
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	code, out, err := r.app.Exec(ectx, cmd)
	cancel()
	if cerr := r.control(ctx, false); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		r.busy(id, "the grader could not run the health check: "+err.Error(), "")
		return
	}
	out = firstLine(strings.TrimSpace(out))
	if code == 0 {
		r.fail(id, finding{field: cptr(r.appIndex, "/healthCheck/command"),
			message:  "while " + r.sc.Health.Path + " answered 503, the health check still exited 0: ECS would keep a broken app in service",
			observed: fmt.Sprintf("exit 0 %s", out), expected: "a non-zero exit when " + r.sc.Health.Path + " fails",
			hint: "curl needs -f (--fail) to exit non-zero on an HTTP error; wget fails on one by itself."})
		return
	}
	r.pass(id, fmt.Sprintf("with %s answering 503, the health check exited %d", r.sc.Health.Path, code), orAbsent(out))
}

// control makes the app's /healthz fail or recover.
func (r *runner) control(ctx context.Context, failing bool) error {
	v := "0"
	if failing {
		v = "1"
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodPost, r.url(r.appPort, "/control/health?fail="+v), nil)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

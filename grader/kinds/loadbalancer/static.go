package loadbalancer

import (
	"fmt"
	"strconv"
	"strings"

	"coldstart/exercises/labs/lbprobe"
	"coldstart/grader"
)

// Static check ids.
const (
	CheckService     = "lb.service"
	CheckTargetGroup = "lb.target-group"
	CheckHealthCheck = "lb.health-check"
	CheckTimings     = "lb.timings"
)

// Settings is a submission with every default filled in: what the
// platforms would run.
type Settings struct {
	Grace, StopTimeout, DeregDelay int
	MinHealthy, MaxPercent         int
	Path, Matcher                  string
	Interval, Timeout              int
	Healthy, Unhealthy             int
	// Breaker and Rollback are the deployment circuit breaker's switches;
	// left out, the breaker is off.
	Breaker, Rollback bool
}

// Defaults of the APIs: target group health checks (interval 30 s, healthy
// 5, unhealthy 2, path /, matcher 200), deregistration delay 300 s, ECS's
// grace period 0, stopTimeout 30 s on Fargate, and the rolling window
// 100/200. The health check timeout has no default here that the course
// has confirmed, so a missing one is taken as 5 s and said so.
func settingsOf(s *Submission) Settings {
	st := Settings{Grace: value(s.HealthCheckGracePeriodSeconds, 0), StopTimeout: value(s.StopTimeout, 30),
		MinHealthy: 100, MaxPercent: 200, DeregDelay: 300, Path: "/", Matcher: "200", Interval: 30, Timeout: 5, Healthy: 5, Unhealthy: 2}
	if d := s.DeploymentConfiguration; d != nil {
		st.MinHealthy, st.MaxPercent = value(d.MinimumHealthyPercent, 100), value(d.MaximumPercent, 200)
		if b := d.DeploymentCircuitBreaker; b != nil && b.Enable != nil && b.Rollback != nil {
			st.Breaker, st.Rollback = *b.Enable, *b.Rollback
		}
	}
	if tg := s.TargetGroup; tg != nil {
		st.DeregDelay = value(tg.DeregistrationDelaySeconds, 300)
		if h := tg.HealthCheck; h != nil {
			if h.Path != "" {
				st.Path = h.Path
			}
			if h.Matcher != "" {
				st.Matcher = h.Matcher
			}
			st.Interval, st.Timeout = value(h.IntervalSeconds, 30), value(h.TimeoutSeconds, 5)
			st.Healthy, st.Unhealthy = value(h.HealthyThresholdCount, 5), value(h.UnhealthyThresholdCount, 2)
		}
	}
	return st
}

// judge returns the static checks: each one what the platform would refuse.
func judge(s *Submission, sc *Scenario) []grader.Check {
	return []grader.Check{judgeService(s, sc), judgeTargetGroup(s, sc), judgeHealthCheck(s), judgeTimings(s)}
}

func check(id, title string) grader.Check {
	return grader.Check{ID: id, Title: title, Phase: grader.PhaseStatic, MaxPoints: 1}
}

func pass(c grader.Check, msg string) grader.Check {
	c.Status, c.Points, c.Message = grader.CheckPass, c.MaxPoints, msg
	return c
}

func fail(c grader.Check, field, msg string) grader.Check {
	c.Status, c.Points, c.Field, c.Message = grader.CheckFail, 0, field, msg
	return c
}

func judgeService(s *Submission, sc *Scenario) grader.Check {
	c := check(CheckService, "The service registers the app container's port in the target group")
	if len(s.LoadBalancers) != 1 {
		return fail(c, "/loadBalancers", fmt.Sprintf("loadBalancers needs exactly one entry for this service, not %d", len(s.LoadBalancers)))
	}
	lb := s.LoadBalancers[0]
	switch {
	case lb.TargetGroupArn != sc.TargetGroupArn:
		return fail(c, "/loadBalancers/0/targetGroupArn", fmt.Sprintf("targetGroupArn %q is not the service's target group (%s)", lb.TargetGroupArn, sc.TargetGroupArn))
	case lb.ContainerName != sc.ContainerName:
		return fail(c, "/loadBalancers/0/containerName", fmt.Sprintf("containerName %q names no container of the task definition; its app container is %q", lb.ContainerName, sc.ContainerName))
	case lb.ContainerPort == nil || *lb.ContainerPort != sc.ContainerPort:
		got := "missing"
		if lb.ContainerPort != nil {
			got = strconv.Itoa(*lb.ContainerPort)
		}
		return fail(c, "/loadBalancers/0/containerPort", fmt.Sprintf("containerPort is %s, but container %s maps port %d; ECS registers the task at the port named here", got, sc.ContainerName, sc.ContainerPort))
	}
	return pass(c, fmt.Sprintf("ECS registers each task's %s:%d in the target group", sc.ContainerName, sc.ContainerPort))
}

func judgeTargetGroup(s *Submission, sc *Scenario) grader.Check {
	c := check(CheckTargetGroup, "The target group can hold Fargate tasks")
	tg := s.TargetGroup
	switch {
	case tg == nil:
		return fail(c, "/targetGroup", "targetGroup is missing")
	case tg.TargetType != "ip":
		return fail(c, "/targetGroup/targetType", fmt.Sprintf("targetType is %q: a Fargate task uses the awsvpc network mode and is reached at its own network interface, so its target group must be of type ip, not instance", tg.TargetType))
	case tg.Protocol != "HTTP" && tg.Protocol != "HTTPS":
		return fail(c, "/targetGroup/protocol", fmt.Sprintf("protocol %q is not one an Application Load Balancer's target group speaks here (HTTP, or HTTPS to the targets)", tg.Protocol))
	case tg.Port != nil && *tg.Port != sc.ContainerPort:
		return fail(c, "/targetGroup/port", fmt.Sprintf("port %d is not the container port %d the service registers", *tg.Port, sc.ContainerPort))
	}
	return pass(c, "an ip target group: each task is registered at its own address")
}

func judgeHealthCheck(s *Submission) grader.Check {
	c := check(CheckHealthCheck, "The health check's settings are ones the target group accepts")
	st := settingsOf(s)
	const base = "/targetGroup/healthCheck"
	switch {
	case !strings.HasPrefix(st.Path, "/"):
		return fail(c, base+"/path", fmt.Sprintf("path %q must start with /", st.Path))
	case st.Interval < 5 || st.Interval > 300:
		return fail(c, base+"/intervalSeconds", fmt.Sprintf("intervalSeconds %d is outside 5 to 300", st.Interval))
	case st.Timeout < 2 || st.Timeout > 120:
		return fail(c, base+"/timeoutSeconds", fmt.Sprintf("timeoutSeconds %d is outside 2 to 120", st.Timeout))
	case st.Healthy < 2 || st.Healthy > 10:
		return fail(c, base+"/healthyThresholdCount", fmt.Sprintf("healthyThresholdCount %d is outside 2 to 10", st.Healthy))
	case st.Unhealthy < 2 || st.Unhealthy > 10:
		return fail(c, base+"/unhealthyThresholdCount", fmt.Sprintf("unhealthyThresholdCount %d is outside 2 to 10", st.Unhealthy))
	}
	if _, err := lbprobe.ParseMatcher(st.Matcher); err != nil {
		return fail(c, base+"/matcher", "matcher: "+err.Error()+`; write codes such as "200", "200,204" or "200-299"`)
	}
	msg := fmt.Sprintf("GET %s every %d s, %d s timeout; healthy after %d passes, unhealthy after %d failures; %s passes", st.Path, st.Interval, st.Timeout, st.Healthy, st.Unhealthy, st.Matcher)
	if s.TargetGroup != nil && s.TargetGroup.HealthCheck != nil && s.TargetGroup.HealthCheck.TimeoutSeconds == nil {
		msg += " (timeoutSeconds was left out; the grader uses 5 s)"
	}
	return pass(c, msg)
}

func judgeTimings(s *Submission) grader.Check {
	c := check(CheckTimings, "Grace period, deregistration delay, stop timeout and the deployment window are valid")
	st := settingsOf(s)
	switch {
	case st.Grace < 0:
		return fail(c, "/healthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds cannot be negative")
	case st.DeregDelay < 0 || st.DeregDelay > 3600:
		return fail(c, "/targetGroup/deregistrationDelaySeconds", fmt.Sprintf("deregistrationDelaySeconds %d is outside 0 to 3600", st.DeregDelay))
	case st.StopTimeout < 2 || st.StopTimeout > 120:
		return fail(c, "/stopTimeout", fmt.Sprintf("stopTimeout %d is outside Fargate's 2 to 120 seconds", st.StopTimeout))
	case st.MinHealthy < 0 || st.MinHealthy > 100:
		return fail(c, "/deploymentConfiguration/minimumHealthyPercent", fmt.Sprintf("minimumHealthyPercent %d is outside the 0 to 100 this exercise plays", st.MinHealthy))
	case st.MaxPercent < 100 || st.MaxPercent > 200:
		return fail(c, "/deploymentConfiguration/maximumPercent", fmt.Sprintf("maximumPercent %d is outside the 100 to 200 this exercise plays", st.MaxPercent))
	}
	if d := s.DeploymentConfiguration; d != nil && d.DeploymentCircuitBreaker != nil {
		if b := d.DeploymentCircuitBreaker; b.Enable == nil || b.Rollback == nil {
			return fail(c, "/deploymentConfiguration/deploymentCircuitBreaker", "deploymentCircuitBreaker needs both enable and rollback, true or false")
		}
	}
	breaker := "circuit breaker off"
	switch {
	case st.Breaker && st.Rollback:
		breaker = "circuit breaker on, with rollback"
	case st.Breaker:
		breaker = "circuit breaker on, without rollback"
	}
	return pass(c, fmt.Sprintf("grace %d s, deregistration delay %d s, stopTimeout %d s, deployment window %d%%–%d%%, %s", st.Grace, st.DeregDelay, st.StopTimeout, st.MinHealthy, st.MaxPercent, breaker))
}

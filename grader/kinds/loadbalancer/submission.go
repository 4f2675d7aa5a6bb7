package loadbalancer

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"coldstart/grader"
)

// Submission is the part of an ECS service and its target group that
// decides whether a rolling deployment behind an Application Load Balancer
// loses requests. Field names follow the ECS and Elastic Load Balancing
// APIs; pointers tell a missing field from a zero.
type Submission struct {
	LoadBalancers                 []ServiceLoadBalancer `json:"loadBalancers"`
	HealthCheckGracePeriodSeconds *int                  `json:"healthCheckGracePeriodSeconds"`
	DeploymentConfiguration       *DeploymentConfig     `json:"deploymentConfiguration"`
	// StopTimeout is the app container's stopTimeout in the task
	// definition: SIGTERM to SIGKILL.
	StopTimeout *int         `json:"stopTimeout"`
	TargetGroup *TargetGroup `json:"targetGroup"`
}

// ServiceLoadBalancer is one entry of a service's loadBalancers.
type ServiceLoadBalancer struct {
	TargetGroupArn string `json:"targetGroupArn"`
	ContainerName  string `json:"containerName"`
	ContainerPort  *int   `json:"containerPort"`
}

// DeploymentConfig is the service's rolling-update window.
type DeploymentConfig struct {
	MinimumHealthyPercent    *int            `json:"minimumHealthyPercent"`
	MaximumPercent           *int            `json:"maximumPercent"`
	DeploymentCircuitBreaker *CircuitBreaker `json:"deploymentCircuitBreaker"`
}

// CircuitBreaker is the deployment circuit breaker; the API requires both
// fields when the object is given.
type CircuitBreaker struct {
	Enable   *bool `json:"enable"`
	Rollback *bool `json:"rollback"`
}

// TargetGroup is the target group the service registers its tasks in.
type TargetGroup struct {
	TargetType                 string       `json:"targetType"`
	Protocol                   string       `json:"protocol"`
	Port                       *int         `json:"port"`
	HealthCheck                *HealthCheck `json:"healthCheck"`
	DeregistrationDelaySeconds *int         `json:"deregistrationDelaySeconds"`
}

// HealthCheck is the target group's health check.
type HealthCheck struct {
	Path                    string `json:"path"`
	IntervalSeconds         *int   `json:"intervalSeconds"`
	TimeoutSeconds          *int   `json:"timeoutSeconds"`
	HealthyThresholdCount   *int   `json:"healthyThresholdCount"`
	UnhealthyThresholdCount *int   `json:"unhealthyThresholdCount"`
	Matcher                 string `json:"matcher"`
}

// Parse reads a submission strictly: unknown fields are mistakes, most
// often a misspelt name that the platform would silently not apply.
func Parse(body []byte) (*Submission, error) {
	var s Submission
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, &grader.InputError{Message: "unknown field " + msg + ": check its spelling against the ECS and Elastic Load Balancing APIs"}
		}
		if err.Error() == "EOF" {
			return nil, &grader.InputError{Message: "the answer is empty; start from the starter JSON"}
		}
		ie := grader.JSONError(body, err)
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			ie.Field = "/" + strings.ReplaceAll(typ.Field, ".", "/")
		}
		return nil, ie
	}
	if dec.More() {
		ie := &grader.InputError{Message: "unexpected text after the JSON object"}
		ie.Line, ie.Column = grader.LineColumn(body, dec.InputOffset())
		return nil, ie
	}
	return &s, nil
}

// value returns *p, or def when the field was left out (the API's default).
func value(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// Package awssim is the aws-sim lab: stand-ins for the AWS endpoints a
// Fargate task touches (the ECS credential endpoint, STS, ECR and its
// registry, Secrets Manager, CloudWatch Logs and S3), in one HTTP server that
// authorises every call against the IAM policies it was given, with the
// error shapes the real services answer with. It routes on the Host header,
// so the grading network gives the container the services' host names as
// aliases and clients call them by name.
//
// Requests are signed in a simplified way (see Sign): what matters here is
// which role's credentials a call carries, not the cryptography.
package awssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ConfigEnv names the environment variable holding the JSON Config.
const ConfigEnv = "AWSSIM_CONFIG"

// Config is the simulated account: its roles and policies, and what its
// services hold.
type Config struct {
	Region  string `json:"region"`
	Account string `json:"account"`
	// Service is the service principal that assumes roles for tasks
	// (ecs-tasks.amazonaws.com).
	Service string `json:"service"`
	Roles   []Role `json:"roles"`
	// Objects maps "bucket/key" to the object's content.
	Objects map[string]string `json:"objects"`
	// Secrets maps a secret's ARN to its value.
	Secrets      map[string]string `json:"secrets"`
	Repositories []Repository      `json:"repositories"`
	LogGroups    []string          `json:"logGroups"`
	// Credentials maps the id in a credential URI (/v2/credentials/ID) to
	// the name of the role whose credentials it serves: the task role.
	Credentials map[string]string `json:"credentials"`
}

// Role is an IAM role with its two policy documents, kept as submitted.
type Role struct {
	Name             string          `json:"name"`
	TrustPolicy      json.RawMessage `json:"trustPolicy"`
	PermissionPolicy json.RawMessage `json:"permissionPolicy"`
}

// Repository is an ECR repository holding one tagged image.
type Repository struct {
	Name string `json:"name"`
	Tag  string `json:"tag"`
}

// RoleARN returns the ARN of the named role.
func (c *Config) RoleARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", c.Account, name)
}

// RepositoryARN returns the ARN of an ECR repository.
func (c *Config) RepositoryARN(name string) string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", c.Region, c.Account, name)
}

// LogStreamARN returns the ARN of a log stream, which CloudWatch Logs
// authorises CreateLogStream and PutLogEvents against.
func (c *Config) LogStreamARN(group, stream string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", c.Region, c.Account, group, stream)
}

// Hosts returns the host names the simulator answers for.
func (c *Config) Hosts() []string {
	r := c.Region
	return []string{
		"sts.amazonaws.com",
		"sts." + r + ".amazonaws.com",
		"s3." + r + ".amazonaws.com",
		"api.ecr." + r + ".amazonaws.com",
		c.Account + ".dkr.ecr." + r + ".amazonaws.com",
		"secretsmanager." + r + ".amazonaws.com",
		"logs." + r + ".amazonaws.com",
	}
}

// Validate reports a configuration the simulator cannot serve.
func (c *Config) Validate() error {
	var errs []error
	if c.Region == "" || c.Account == "" || c.Service == "" {
		errs = append(errs, errors.New("region, account and service are required"))
	}
	seen := map[string]bool{}
	for _, r := range c.Roles {
		if r.Name == "" || strings.ContainsAny(r.Name, "/: ") {
			errs = append(errs, fmt.Errorf("role name %q is not a plain name", r.Name))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("role %q is defined twice", r.Name))
		}
		seen[r.Name] = true
	}
	for id, role := range c.Credentials {
		if !seen[role] {
			errs = append(errs, fmt.Errorf("credential id %q serves unknown role %q", id, role))
		}
	}
	for k := range c.Objects {
		if b, key, ok := strings.Cut(k, "/"); !ok || b == "" || key == "" {
			errs = append(errs, fmt.Errorf("object %q is not bucket/key", k))
		}
	}
	return errors.Join(errs...)
}

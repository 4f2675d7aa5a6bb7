package loadbalancer

import (
	"fmt"
	"time"

	"coldstart/grader"
)

// Scenario is an exercise's requirements: the task the service runs, the
// traffic in front of it, and how fast the grader plays time.
type Scenario struct {
	// ContainerName and ContainerPort are the task definition's app
	// container and its port mapping.
	ContainerName string `yaml:"containerName"`
	ContainerPort int    `yaml:"containerPort"`
	// TargetGroupArn is the target group the service must name.
	TargetGroupArn string `yaml:"targetGroupArn"`
	DesiredCount   int    `yaml:"desiredCount"`
	// StartupSeconds is how long the app takes before /healthz answers 200.
	StartupSeconds float64 `yaml:"startupSeconds"`
	// ShortRequestSeconds and LongRequestSeconds are the work of the
	// requests; every LongEvery-th request is a long one.
	ShortRequestSeconds float64 `yaml:"shortRequestSeconds"`
	LongRequestSeconds  float64 `yaml:"longRequestSeconds"`
	LongEvery           int     `yaml:"longEvery"`
	// RequestsPerSecond is the steady traffic, in real time.
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	// DeployDeadlineSeconds is how long the deployment may take.
	DeployDeadlineSeconds float64 `yaml:"deployDeadlineSeconds"`
	// TimeScale is how many platform seconds one real second plays.
	TimeScale float64 `yaml:"timeScale"`
	// NewRevisionFails makes the deployed revision one whose health check
	// never passes: the deployment must then end rolled back.
	NewRevisionFails bool `yaml:"newRevisionFails"`
}

// LoadScenario decodes and checks an exercise's scenario.
func LoadScenario(spec grader.Spec) (*Scenario, error) {
	var s Scenario
	if err := spec.DecodeScenario(&s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	switch {
	case s.ContainerName == "" || s.ContainerPort < 1 || s.ContainerPort > 65535 || s.TargetGroupArn == "":
		return nil, fmt.Errorf("scenario: containerName, containerPort and targetGroupArn are required")
	case s.DesiredCount < 1 || s.DesiredCount > 4:
		return nil, fmt.Errorf("scenario: desiredCount must be 1 to 4, so a grading starts few containers")
	case s.TimeScale < 1 || s.TimeScale > 20:
		return nil, fmt.Errorf("scenario: timeScale must be 1 to 20")
	case s.StartupSeconds < 0 || s.ShortRequestSeconds <= 0 || s.LongRequestSeconds < s.ShortRequestSeconds || s.LongEvery < 1:
		return nil, fmt.Errorf("scenario: startupSeconds, shortRequestSeconds, longRequestSeconds and longEvery must describe the traffic")
	case s.RequestsPerSecond <= 0 || s.RequestsPerSecond > 100:
		return nil, fmt.Errorf("scenario: requestsPerSecond must be above 0 and at most 100")
	case s.DeployDeadlineSeconds <= 0 || s.DeployDeadlineSeconds/s.TimeScale > 30:
		return nil, fmt.Errorf("scenario: deployDeadlineSeconds must be positive and play in at most 30 real seconds")
	}
	return &s, nil
}

// real turns platform seconds into the time the grader plays.
func (s *Scenario) real(platformSeconds float64) time.Duration {
	return time.Duration(platformSeconds / s.TimeScale * float64(time.Second))
}

// platform turns a played duration back into platform seconds.
func (s *Scenario) platform(d time.Duration) float64 { return d.Seconds() * s.TimeScale }

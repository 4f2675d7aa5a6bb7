package loadbalancer

import "coldstart/grader"

// Scoring implements grader.Scorer. The scenario is about a deployment that
// replaces the tasks behind the load balancer without failing a request (or,
// when the new revision is broken, ends rolled back). The static checks are
// the platform's rules for a valid service and target group, which the
// starter's own values already meet in part: they must pass but earn
// nothing. Healthy targets and no failed requests earn their points only
// once the deployment ends as the scenario asks, since the old revision
// alone serves every request; that deployment is core.
func (Kind) Scoring(grader.Spec) grader.Scoring {
	deployment := []string{CheckDeploy, CheckRolledBack}
	return grader.Scoring{
		Weights: map[string]float64{
			CheckService:     0,
			CheckTargetGroup: 0,
			CheckHealthCheck: 0,
			CheckTimings:     0,
			CheckHealthy:     1,
			CheckDeploy:      2,
			CheckRolledBack:  2,
			CheckNoFailed:    2,
		},
		Requires: map[string][]string{
			CheckHealthy:  deployment,
			CheckNoFailed: deployment,
		},
		Core: deployment,
	}
}

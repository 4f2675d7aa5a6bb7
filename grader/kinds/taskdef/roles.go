package taskdef

import (
	"regexp"
	"strings"
)

// ECS takes a role as "the short name or full Amazon Resource Name (ARN)"
// (RegisterTaskDefinition, taskRoleArn; facts.md, Task definition rules),
// and the ECS team says the same of executionRoleArn: "both the
// executionRoleArn and taskRoleArn can actually be just the role name. ECS
// will fill in the account ID server-side when the task definition is
// registered" (aws-actions/amazon-ecs-render-task-definition#19). The
// grader resolves a short name the way registration does, so that every
// later check and the run phase see the ARN ECS would store.

var accountRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):`)

// account returns the AWS account of the scenario: the one its roles live
// in, or "" when the scenario names no role ARN.
func (sc *Scenario) account() string {
	for _, arn := range []string{sc.Roles.Execution, sc.Roles.Task} {
		if m := accountRE.FindStringSubmatch(arn); m != nil {
			return m[1]
		}
	}
	return ""
}

// resolveRole returns the ARN a role reference names in account: an ARN is
// itself, a short name is the role of that name in the task's account.
func resolveRole(ref, account string) string {
	if ref == "" || account == "" || strings.HasPrefix(ref, "arn:") || strings.ContainsAny(ref, " :") {
		return ref
	}
	return "arn:aws:iam::" + account + ":role/" + ref
}

// resolveRoles rewrites short role names in td into ARNs, as ECS does when
// it registers the task definition.
func resolveRoles(td *TaskDefinition, sc *Scenario) {
	acct := sc.account()
	td.TaskRoleArn = resolveRole(td.TaskRoleArn, acct)
	td.ExecutionRoleArn = resolveRole(td.ExecutionRoleArn, acct)
}

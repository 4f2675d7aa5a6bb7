package taskdef

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"coldstart/grader"
)

// More of the rules RegisterTaskDefinition applies, each with the source
// that states it. Where ECS's own error text is known it leads the message.

// maxContainers is the number of container definitions a task definition
// may hold (facts.md: "At most 10 container definitions per task
// definition (ECS service quotas…). More is refused at registration").
const maxContainers = 10

func checkContainerCount(td *TaskDefinition) ([]finding, string) {
	if n := len(td.ContainerDefinitions); n > maxContainers {
		return []finding{{field: "/containerDefinitions",
			message:  fmt.Sprintf("the task definition lists %d containers; ECS accepts at most %d container definitions in one task definition (an Amazon ECS service quota), so it refuses the registration", n, maxContainers),
			observed: fmt.Sprintf("%d container definitions", n), expected: fmt.Sprintf("at most %d", maxContainers),
			hint: "Keep the task to the app and the sidecars it really needs; run other work as its own service."}}, ""
	}
	return nil, ""
}

// ecrImageRE matches an image in a private ECR registry, which Fargate
// pulls with the execution role.
var ecrImageRE = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/`)

// checkExecutionRole applies ECS's registration errors for a missing
// execution role:
//   - "When you are specifying container secrets, you must also specify a
//     value for 'executionRoleArn'." (fabfuel/ecs-deploy#87)
//   - "Fargate requires task definition to have execution role ARN to
//     support log driver awslogs." (virtual-kubelet/virtual-kubelet#193,
//     aws/aws-cdk#1279)
//   - "Fargate requires task definition to have execution role ARN to
//     support ECR images." (nathanpeck/aws-cloudformation-fargate#1)
func checkExecutionRole(td *TaskDefinition) ([]finding, string) {
	if td.ExecutionRoleArn != "" {
		return nil, ""
	}
	hint := "Set executionRoleArn: the ECS agent uses it to pull from ECR, write awslogs and fetch secrets."
	for i, c := range td.ContainerDefinitions {
		if len(c.Secrets) > 0 {
			return []finding{{field: "/executionRoleArn", message: fmt.Sprintf("ClientException: When you are specifying container secrets, you must also specify a value for 'executionRoleArn'. (%s has secrets)", label(c, i)),
				observed: "no executionRoleArn", expected: "the execution role's ARN or name", hint: hint}}, ""
		}
	}
	if !isFargate(td) {
		return nil, ""
	}
	for i, c := range td.ContainerDefinitions {
		if c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "awslogs" {
			return []finding{{field: "/executionRoleArn", message: fmt.Sprintf("ClientException: Fargate requires task definition to have execution role ARN to support log driver awslogs. (%s logs through awslogs)", label(c, i)),
				observed: "no executionRoleArn", expected: "the execution role's ARN or name", hint: hint}}, ""
		}
	}
	for i, c := range td.ContainerDefinitions {
		if ecrImageRE.MatchString(c.Image) {
			return []finding{{field: "/executionRoleArn", message: fmt.Sprintf("ClientException: Fargate requires task definition to have execution role ARN to support ECR images. (%s runs %s)", label(c, i), grader.Clip(c.Image)),
				observed: "no executionRoleArn", expected: "the execution role's ARN or name", hint: hint}}, ""
		}
	}
	return nil, ""
}

// imageChars are the characters ECS allows in an image reference: "up to
// 255 characters total are allowed, including letters (uppercase and
// lowercase), numbers, hyphens, underscores, colons, periods, forward
// slashes, and number signs (#). For images using digests
// (repository-url/image@digest), the 255 character limit applies only to
// the repository URL and image name (everything before the @ sign). The
// only supported hash function is sha256, and the hash value after sha256:
// must be exactly 64 characters (only letters A-F, a-f, and numbers 0-9 are
// allowed)." (ContainerDefinition, image)
var (
	imageChars = regexp.MustCompile(`^[A-Za-z0-9_.:/#-]+$`)
	digestRE   = regexp.MustCompile(`^sha256:[A-Fa-f0-9]{64}$`)
)

func checkImageForm(td *TaskDefinition) ([]finding, string) {
	var out []finding
	expected := "repository-url/image:tag or repository-url/image@sha256:<64 hex digits>; up to 255 of letters, digits, - _ : . / #"
	for i, c := range td.ContainerDefinitions {
		name, digest, byDigest := strings.Cut(c.Image, "@")
		switch {
		case c.Image == "":
			// ECS's error, quoted in aws/aws-cli#5924.
			out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("ClientException: Container.image should not be null or empty. (%s has no image)", label(c, i)), expected: "repository:tag or repository@sha256:<digest>"})
		case name == "" || len(name) > 255 || !imageChars.MatchString(name):
			out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("%q is not an image reference ECS accepts: it allows up to 255 letters, digits, hyphens, underscores, colons, periods, forward slashes and number signs", grader.Clip(c.Image)),
				observed: grader.Clip(c.Image), expected: expected, hint: "Spaces and other punctuation are not allowed in an image reference."})
		case byDigest && !digestRE.MatchString(digest):
			out = append(out, finding{field: cptr(i, "/image"), message: fmt.Sprintf("%q has a digest ECS does not accept: the only hash is sha256, followed by exactly 64 hexadecimal digits", grader.Clip(c.Image)),
				observed: grader.Clip(digest), expected: "@sha256:<64 hex digits>"})
		}
	}
	return out, ""
}

// EC2 and external task sizes: "Supported values are between 128 CPU units
// (0.125 vCPUs) and 196608 CPU units (192 vCPUs)" (RegisterTaskDefinition,
// cpu). Every Fargate size is within that range; which ones Fargate offers
// is fargate.cpu-memory's rule.
func checkTaskCPURange(td *TaskDefinition) ([]finding, string) {
	if td.Cpu == nil {
		return nil, ""
	}
	cpu, err := ParseCPU(*td.Cpu)
	switch {
	case err != nil && isFargate(td):
		return nil, "" // fargate.cpu-memory reports it
	case err != nil:
		return []finding{{field: "/cpu", message: err.Error(), observed: grader.Clip(*td.Cpu)}}, ""
	case cpu < 128 || cpu > 196608:
		return []finding{{field: "/cpu", message: fmt.Sprintf("task cpu is %d units; for tasks not on Fargate ECS accepts 128 (0.125 vCPU) to 196608 (192 vCPU)", cpu),
			observed: fmt.Sprintf("%d units", cpu), expected: "128–196608 units"}}, ""
	}
	if td.Memory != nil && !isFargate(td) {
		if _, err := ParseMemory(*td.Memory); err != nil {
			return []finding{{field: "/memory", message: err.Error(), observed: grader.Clip(*td.Memory)}}, ""
		}
	}
	return nil, ""
}

// containerMemoryRequired: without a task-level memory, every container
// needs its own: "Invalid setting for container 'X'. At least one of
// 'memory' or 'memoryReservation' must be specified."
// (cuttlesoft/ecs-deploy.py#17).
func containerMemoryRequired(td *TaskDefinition) []finding {
	if td.Memory != nil {
		return nil
	}
	var out []finding
	for i, c := range td.ContainerDefinitions {
		if c.Memory == nil && c.MemoryReservation == nil {
			out = append(out, finding{field: cptr(i, "/memory"),
				message:  fmt.Sprintf("ClientException: Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified. (the task has no memory of its own)", grader.Clip(c.Name)),
				expected: "memory or memoryReservation in MiB, or a task-level memory"})
		}
	}
	return out
}

// compatibilities are the launch types of requiresCompatibilities ("Valid
// Values: EC2 | FARGATE | EXTERNAL | MANAGED_INSTANCES", TaskDefinition).
var compatibilities = []string{"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"}

func checkCompatibilities(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, v := range td.RequiresCompatibilities {
		if !slices.Contains(compatibilities, v) {
			f := finding{field: fmt.Sprintf("/requiresCompatibilities/%d", i), message: fmt.Sprintf("%q is not a launch type ECS knows; it takes %s", grader.Clip(v), strings.Join(compatibilities, ", ")),
				observed: grader.Clip(v), expected: strings.Join(compatibilities, ", ")}
			if slices.Contains(compatibilities, strings.ToUpper(v)) {
				f.hint = fmt.Sprintf("Launch types are upper case: %q.", strings.ToUpper(v))
			}
			out = append(out, f)
		}
	}
	return out, ""
}

// checkEphemeralStorage: "The minimum supported value is 21 GiB and the
// maximum supported value is 200 GiB" (EphemeralStorage, sizeInGiB; an
// older revision of the same reference says 20, so 20 itself is not
// failed).
func checkEphemeralStorage(td *TaskDefinition) ([]finding, string) {
	if td.EphemeralStorage == nil || td.EphemeralStorage.SizeInGiB == nil {
		return nil, ""
	}
	if n := *td.EphemeralStorage.SizeInGiB; n < 20 || n > 200 {
		return []finding{{field: "/ephemeralStorage/sizeInGiB", message: fmt.Sprintf("ephemeralStorage.sizeInGiB is %d; the API reference gives a minimum of 21 GiB and a maximum of 200 GiB (without it a Fargate task gets 20 GiB)", n),
			observed: fmt.Sprintf("%d GiB", n), expected: "21–200 GiB, or leave ephemeralStorage out"}}, ""
	}
	return nil, ""
}

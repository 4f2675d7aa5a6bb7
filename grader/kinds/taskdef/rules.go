package taskdef

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"coldstart/grader"
)

// finding is one thing wrong that a check found.
type finding struct {
	field, message, observed, expected, hint string
}

// rule is a static check. Registration rules are the ones ECS applies when
// the task definition is registered: if any fails, the task would never run,
// so neither does the run phase.
type rule struct {
	id, title    string
	registration bool
	// check returns what is wrong, or a reason when the rule does not apply.
	check func(td *TaskDefinition) (found []finding, skip string)
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	smArnRE  = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+(?::[^:]*:[^:]*:[^:]*)?$`)
	ssmArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+$`)
	// ssmNameRE is a parameter named without its ARN: not an ARN at all.
	ssmNameRE = regexp.MustCompile(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
)

// platformRules are facts.md's task-definition rules, in the order a
// student would fix them.
var platformRules = []rule{
	{id: "taskdef.family", title: "The family is a valid name", registration: true, check: checkFamily},
	{id: "taskdef.containers", title: "Containers have valid, unique names", registration: true, check: checkContainerNames},
	{id: "taskdef.container-count", title: "At most 10 container definitions", registration: true, check: checkContainerCount},
	{id: "taskdef.image-form", title: "Every image reference is one ECS accepts", registration: true, check: checkImageForm},
	{id: "taskdef.execution-role", title: "An execution role is given where ECS requires one", registration: true, check: checkExecutionRole},
	{id: "taskdef.compatibilities", title: "requiresCompatibilities lists launch types ECS knows", registration: true, check: checkCompatibilities},
	{id: "taskdef.network-mode", title: "The network mode is one ECS knows", registration: true, check: checkNetworkModeValue},
	{id: "fargate.network-mode", title: "Fargate tasks use the awsvpc network mode", registration: true, check: fargateOnly(checkFargateNetworkMode)},
	{id: "fargate.cpu-memory", title: "CPU and memory form a valid Fargate size", registration: true, check: fargateOnly(checkFargateSize)},
	{id: "taskdef.task-size", title: "Task CPU is within ECS's range (128–196608 units)", registration: true, check: checkTaskCPURange},
	{id: "taskdef.container-limits", title: "Container CPU and memory fit the task", registration: true, check: checkContainerLimits},
	{id: "taskdef.essential", title: "At least one container is essential", registration: true, check: checkEssential},
	{id: "taskdef.port-mappings", title: "Port mappings are valid for the network mode", registration: true, check: checkPortMappings},
	{id: "taskdef.secret-refs", title: "Secrets name a Secrets Manager ARN or an SSM parameter", registration: true, check: checkSecretRefs},
	{id: "taskdef.log-config", title: "The log configuration is complete", registration: true, check: checkLogConfig},
	{id: "taskdef.health-check-ranges", title: "Health-check settings are within ECS's ranges", registration: true, check: checkHealthRanges},
	{id: "fargate.timeouts", title: "Start and stop timeouts are within Fargate's range", registration: true, check: fargateOnly(checkTimeouts)},
	{id: "fargate.unsupported", title: "No settings that Fargate refuses", registration: true, check: fargateOnly(checkUnsupported)},
	{id: "taskdef.depends-on", title: "Container dependencies are valid", registration: true, check: checkDependsOn},
	{id: "taskdef.volumes", title: "Volumes and the mount points that use them are valid", registration: true, check: checkVolumes},
	{id: "taskdef.ephemeral-storage", title: "Ephemeral storage is within ECS's range", registration: true, check: checkEphemeralStorage},
}

func isFargate(td *TaskDefinition) bool {
	return slices.Contains(td.RequiresCompatibilities, "FARGATE")
}

func fargateOnly(f func(*TaskDefinition) ([]finding, string)) func(*TaskDefinition) ([]finding, string) {
	return func(td *TaskDefinition) ([]finding, string) {
		if !isFargate(td) {
			return nil, "requiresCompatibilities does not include FARGATE, so Fargate's rules do not apply"
		}
		return f(td)
	}
}

func cptr(i int, rest string) string { return fmt.Sprintf("/containerDefinitions/%d%s", i, rest) }

func checkFamily(td *TaskDefinition) ([]finding, string) {
	switch {
	case td.Family == "":
		return []finding{{field: "/family", message: "family is required: it names the task definition, and each registration adds a revision to it",
			expected: "1–255 letters, digits, hyphens or underscores", hint: `Add "family": "api-worker".`}}, ""
	case !nameRE.MatchString(td.Family):
		return []finding{{field: "/family", message: "family may only hold letters, digits, hyphens and underscores, at most 255 of them",
			observed: grader.Clip(td.Family), expected: "1–255 of A–Z a–z 0–9 - _"}}, ""
	}
	return nil, ""
}

func checkContainerNames(td *TaskDefinition) ([]finding, string) {
	if len(td.ContainerDefinitions) == 0 {
		return []finding{{field: "/containerDefinitions", message: "a task definition needs at least one container definition",
			hint: "Add the app container to containerDefinitions."}}, ""
	}
	var out []finding
	seen := map[string]int{}
	for i, c := range td.ContainerDefinitions {
		switch {
		case c.Name == "":
			// ECS's error, quoted in hashicorp/terraform#2888.
			out = append(out, finding{field: cptr(i, "/name"), message: fmt.Sprintf("ClientException: Container.name should not be null or empty. (container %d has no name)", i+1), expected: "a name of letters, digits, hyphens or underscores"})
		case !nameRE.MatchString(c.Name):
			out = append(out, finding{field: cptr(i, "/name"), message: fmt.Sprintf("container name %q may only hold letters, digits, hyphens and underscores", grader.Clip(c.Name)), observed: grader.Clip(c.Name)})
		default:
			if j, dup := seen[c.Name]; dup {
				out = append(out, finding{field: cptr(i, "/name"), message: fmt.Sprintf("containers %d and %d are both named %q; names must be unique in a task", j+1, i+1, c.Name)})
			}
			seen[c.Name] = i
		}
	}
	return out, ""
}

var networkModes = []string{"bridge", "host", "awsvpc", "none"}

func checkNetworkModeValue(td *TaskDefinition) ([]finding, string) {
	if td.NetworkMode != "" && !slices.Contains(networkModes, td.NetworkMode) {
		return []finding{{field: "/networkMode", message: fmt.Sprintf("%q is not a network mode", grader.Clip(td.NetworkMode)),
			observed: grader.Clip(td.NetworkMode), expected: strings.Join(networkModes, ", ")}}, ""
	}
	return nil, ""
}

func checkFargateNetworkMode(td *TaskDefinition) ([]finding, string) {
	mode := td.NetworkMode
	if mode == "" {
		mode = "bridge (the default when networkMode is absent)"
	}
	if td.NetworkMode != "awsvpc" {
		return []finding{{field: "/networkMode", message: "Fargate runs every task with its own network interface, so it only accepts networkMode awsvpc",
			observed: mode, expected: "awsvpc", hint: `Set "networkMode": "awsvpc"; each task then gets its own private IP in your subnet.`}}, ""
	}
	return nil, ""
}

// taskSize returns the task's cpu units and memory MiB, with findings for
// values that cannot be read.
func taskSize(td *TaskDefinition) (cpu, mem int64, out []finding) {
	if td.Cpu == nil {
		out = append(out, finding{field: "/cpu", message: "Fargate needs cpu at task level", expected: `CPU units such as "512" or vCPUs such as "1 vCPU"`})
	} else if v, err := ParseCPU(*td.Cpu); err != nil {
		out = append(out, finding{field: "/cpu", message: err.Error(), observed: grader.Clip(*td.Cpu)})
	} else {
		cpu = v
	}
	if td.Memory == nil {
		out = append(out, finding{field: "/memory", message: "Fargate needs memory at task level", expected: `MiB such as "2048" or GB such as "2 GB"`})
	} else if v, err := ParseMemory(*td.Memory); err != nil {
		out = append(out, finding{field: "/memory", message: err.Error(), observed: grader.Clip(*td.Memory)})
	} else {
		mem = v
	}
	return cpu, mem, out
}

func checkFargateSize(td *TaskDefinition) ([]finding, string) {
	cpu, mem, out := taskSize(td)
	if len(out) > 0 {
		return out, ""
	}
	choices := memoryChoices(cpu)
	if choices == nil {
		return []finding{{field: "/cpu", message: fmt.Sprintf("ClientException: Invalid 'cpu' setting for task. %d CPU units is not a Fargate size", cpu),
			observed: fmt.Sprintf("%d units", cpu), expected: "one of " + fargateCPUs() + " units"}}, ""
	}
	if !slices.Contains(choices, mem) {
		return []finding{{field: "/memory", message: fmt.Sprintf("ClientException: Invalid 'cpu' setting for task. %d CPU units (%s) allow %s; you asked for %d MiB", cpu, vcpu(cpu), describeChoices(cpu), mem),
			observed: fmt.Sprintf("cpu %d, memory %d MiB", cpu, mem), expected: fmt.Sprintf("memory of %s with cpu %d", describeChoices(cpu), cpu),
			hint: "Fargate sells fixed pairs of CPU and memory: pick the memory from the row of your CPU size."}}, ""
	}
	return nil, ""
}

func checkContainerLimits(td *TaskDefinition) ([]finding, string) {
	out := containerMemoryRequired(td)
	var cpuSum, memSum int64
	for i, c := range td.ContainerDefinitions {
		if c.Cpu != nil {
			if *c.Cpu < 0 {
				out = append(out, finding{field: cptr(i, "/cpu"), message: "container cpu cannot be negative", observed: fmt.Sprint(*c.Cpu)})
			}
			cpuSum += max(*c.Cpu, 0)
		}
		if c.Memory != nil && *c.Memory <= 0 {
			out = append(out, finding{field: cptr(i, "/memory"), message: "container memory must be a positive number of MiB", observed: fmt.Sprint(*c.Memory)})
		}
		if c.MemoryReservation != nil && *c.MemoryReservation <= 0 {
			out = append(out, finding{field: cptr(i, "/memoryReservation"), message: "memoryReservation must be a positive number of MiB", observed: fmt.Sprint(*c.MemoryReservation)})
		}
		if c.Memory != nil && c.MemoryReservation != nil && *c.Memory <= *c.MemoryReservation {
			out = append(out, finding{field: cptr(i, "/memoryReservation"),
				message:  fmt.Sprintf("container %s: memory (the hard limit, %d MiB) must be greater than memoryReservation (the soft limit, %d MiB)", label(c, i), *c.Memory, *c.MemoryReservation),
				observed: fmt.Sprintf("memory %d, memoryReservation %d", *c.Memory, *c.MemoryReservation), expected: "memory > memoryReservation"})
		}
		switch {
		case c.MemoryReservation != nil:
			memSum += max(*c.MemoryReservation, 0)
		case c.Memory != nil:
			memSum += max(*c.Memory, 0)
		}
	}
	var tcpu, tmem int64
	if td.Cpu != nil {
		tcpu, _ = ParseCPU(*td.Cpu)
	}
	if td.Memory != nil {
		tmem, _ = ParseMemory(*td.Memory)
	}
	if tcpu > 0 && cpuSum > tcpu {
		out = append(out, finding{field: "/containerDefinitions", message: fmt.Sprintf("the containers ask for %d CPU units together, more than the task's %d", cpuSum, tcpu),
			observed: fmt.Sprintf("%d units", cpuSum), expected: fmt.Sprintf("at most %d units", tcpu)})
	}
	if tmem > 0 && memSum > tmem {
		out = append(out, finding{field: "/containerDefinitions", message: fmt.Sprintf("the containers reserve %d MiB together, more than the task's %d MiB", memSum, tmem),
			observed: fmt.Sprintf("%d MiB", memSum), expected: fmt.Sprintf("at most %d MiB", tmem)})
	}
	for i, c := range td.ContainerDefinitions {
		if tmem > 0 && c.Memory != nil && *c.Memory > tmem {
			out = append(out, finding{field: cptr(i, "/memory"), message: fmt.Sprintf("container %s's memory limit (%d MiB) is above the task's %d MiB", label(c, i), *c.Memory, tmem)})
		}
	}
	return out, ""
}

func checkEssential(td *TaskDefinition) ([]finding, string) {
	if len(td.ContainerDefinitions) == 0 {
		return nil, "there are no containers"
	}
	for _, c := range td.ContainerDefinitions {
		if c.IsEssential() {
			return nil, ""
		}
	}
	return []finding{{field: "/containerDefinitions", message: "every container is marked essential: false; ECS needs at least one essential container, whose exit ends the task",
		hint: "Leave essential out (it defaults to true) or set it to true on the app container."}}, ""
}

func checkPortMappings(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		if td.NetworkMode == "none" && len(c.PortMappings) > 0 {
			// "If the network mode is set to none, you cannot specify port
			// mappings in your container definitions" (networkMode).
			out = append(out, finding{field: cptr(i, "/portMappings"), message: fmt.Sprintf("networkMode none gives the task no network, and ECS refuses port mappings with it (%s has %d)", label(c, i), len(c.PortMappings)),
				expected: "no portMappings, or another network mode"})
			continue
		}
		for j, p := range c.PortMappings {
			at := cptr(i, fmt.Sprintf("/portMappings/%d", j))
			if p.ContainerPort == nil {
				out = append(out, finding{field: at, message: fmt.Sprintf("port mapping %d of %s has no containerPort", j+1, label(c, i))})
				continue
			}
			cp := *p.ContainerPort
			if cp < 1 || cp > 65535 {
				out = append(out, finding{field: at + "/containerPort", message: fmt.Sprintf("containerPort %d is not a port number", cp), expected: "1–65535"})
			}
			if td.NetworkMode == "awsvpc" && p.HostPort != nil && *p.HostPort != cp {
				out = append(out, finding{field: at + "/hostPort",
					message:  fmt.Sprintf("under awsvpc the task has its own IP, so hostPort must be absent or equal to containerPort; it is %d for containerPort %d", *p.HostPort, cp),
					observed: fmt.Sprint(*p.HostPort), expected: fmt.Sprintf("absent or %d", cp), hint: "Leave hostPort out."})
			}
			if p.Protocol != "" && p.Protocol != "tcp" && p.Protocol != "udp" {
				out = append(out, finding{field: at + "/protocol", message: fmt.Sprintf("protocol %q is not tcp or udp", grader.Clip(p.Protocol)), observed: grader.Clip(p.Protocol), expected: "tcp or udp"})
			}
		}
	}
	return out, ""
}

func checkSecretRefs(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		for j, s := range c.Secrets {
			at := cptr(i, fmt.Sprintf("/secrets/%d", j))
			if s.Name == "" {
				out = append(out, finding{field: at + "/name", message: "a secret needs the name of the environment variable it fills"})
			}
			// "The supported values are either the full ARN of the Secrets
			// Manager secret or the full ARN of the parameter in the SSM
			// Parameter Store… If the SSM Parameter Store parameter exists in
			// the same Region as the task you're launching, then you can use
			// either the full ARN or name of the parameter" (Secret, valueFrom).
			if !smArnRE.MatchString(s.ValueFrom) && !ssmArnRE.MatchString(s.ValueFrom) && !ssmNameRE.MatchString(s.ValueFrom) {
				out = append(out, finding{field: at + "/valueFrom", message: fmt.Sprintf("valueFrom %q is neither a Secrets Manager ARN nor an SSM parameter (its ARN, or its name in the task's Region)", grader.Clip(s.ValueFrom)),
					observed: grader.Clip(s.ValueFrom), expected: "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or a parameter name",
					hint: "valueFrom names where the secret lives, never the secret's value."})
			}
		}
	}
	return out, ""
}

var fargateLogDrivers = []string{"awslogs", "splunk", "awsfirelens"}

func checkLogConfig(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		lc := c.LogConfiguration
		if lc == nil {
			continue
		}
		at := cptr(i, "/logConfiguration")
		if lc.LogDriver == "" {
			out = append(out, finding{field: at + "/logDriver", message: "logConfiguration needs a logDriver", expected: "awslogs"})
			continue
		}
		if isFargate(td) && !slices.Contains(fargateLogDrivers, lc.LogDriver) {
			out = append(out, finding{field: at + "/logDriver", message: fmt.Sprintf("Fargate does not support the %q log driver", grader.Clip(lc.LogDriver)),
				observed: grader.Clip(lc.LogDriver), expected: strings.Join(fargateLogDrivers, ", ")})
			continue
		}
		if lc.LogDriver == "awslogs" {
			need := []string{"awslogs-group", "awslogs-region"}
			if isFargate(td) {
				need = append(need, "awslogs-stream-prefix")
			}
			for _, k := range need {
				if lc.Options[k] == "" {
					out = append(out, finding{field: at + "/options", message: fmt.Sprintf("the awslogs driver of %s needs the option %s", label(c, i), k),
						expected: strings.Join(need, ", ")})
				}
			}
		}
	}
	return out, ""
}

func checkHealthRanges(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		h := c.HealthCheck
		if h == nil {
			continue
		}
		at := cptr(i, "/healthCheck")
		switch {
		case len(h.Command) == 0:
			out = append(out, finding{field: at + "/command", message: "a health check needs a command", expected: `["CMD-SHELL", "…"] or ["CMD", "program", "arg", …]`})
		case h.Command[0] != "CMD" && h.Command[0] != "CMD-SHELL":
			out = append(out, finding{field: at + "/command/0", message: fmt.Sprintf("a health-check command starts with CMD or CMD-SHELL, not %q", grader.Clip(h.Command[0])),
				observed: grader.Clip(h.Command[0]), expected: "CMD or CMD-SHELL", hint: `Write ["CMD-SHELL", "curl -f http://localhost:8080/healthz || exit 1"].`})
		case len(h.Command) < 2:
			out = append(out, finding{field: at + "/command", message: fmt.Sprintf("%s needs the command to run after it", h.Command[0])})
		}
		ranges := []struct {
			name     string
			v        *int64
			min, max int64
			unit     string
		}{
			{"interval", h.Interval, 5, 300, " s"}, {"timeout", h.Timeout, 2, 60, " s"},
			{"retries", h.Retries, 1, 10, ""}, {"startPeriod", h.StartPeriod, 0, 300, " s"},
		}
		for _, r := range ranges {
			if r.v != nil && (*r.v < r.min || *r.v > r.max) {
				out = append(out, finding{field: at + "/" + r.name, message: fmt.Sprintf("health-check %s is %d%s; ECS accepts %d–%d%s", r.name, *r.v, r.unit, r.min, r.max, r.unit),
					observed: fmt.Sprintf("%d%s", *r.v, r.unit), expected: fmt.Sprintf("%d–%d%s", r.min, r.max, r.unit)})
			}
		}
	}
	return out, ""
}

func checkTimeouts(td *TaskDefinition) ([]finding, string) {
	var out []finding
	for i, c := range td.ContainerDefinitions {
		for _, t := range []struct {
			name string
			v    *int64
		}{{"stopTimeout", c.StopTimeout}, {"startTimeout", c.StartTimeout}} {
			if t.v != nil && (*t.v < 2 || *t.v > 120) {
				out = append(out, finding{field: cptr(i, "/"+t.name), message: fmt.Sprintf("%s of %s is %d s; on Fargate it is 2–120 s", t.name, label(c, i), *t.v),
					observed: fmt.Sprintf("%d s", *t.v), expected: "2–120 s"})
			}
		}
	}
	return out, ""
}

func checkUnsupported(td *TaskDefinition) ([]finding, string) {
	var out []finding
	if td.PidMode != "" && td.PidMode != "task" {
		out = append(out, finding{field: "/pidMode", message: fmt.Sprintf("Fargate only supports pidMode task, not %q", grader.Clip(td.PidMode)), expected: "task or absent"})
	}
	if td.IpcMode != "" {
		out = append(out, finding{field: "/ipcMode", message: "Fargate does not support ipcMode", hint: "Remove ipcMode."})
	}
	for i, c := range td.ContainerDefinitions {
		if c.Privileged != nil && *c.Privileged {
			out = append(out, finding{field: cptr(i, "/privileged"), message: fmt.Sprintf("Fargate does not run privileged containers (%s)", label(c, i)), hint: "Remove privileged."})
		}
		if lp := c.LinuxParameters; lp != nil {
			if len(lp.Devices) > 0 {
				out = append(out, finding{field: cptr(i, "/linuxParameters/devices"), message: "Fargate does not support linuxParameters.devices"})
			}
			if lp.SharedMemorySize != nil {
				out = append(out, finding{field: cptr(i, "/linuxParameters/sharedMemorySize"), message: "Fargate does not support linuxParameters.sharedMemorySize"})
			}
			if lp.MaxSwap != nil {
				out = append(out, finding{field: cptr(i, "/linuxParameters/maxSwap"), message: "Fargate does not support linuxParameters.maxSwap"})
			}
			if lp.Swappiness != nil {
				out = append(out, finding{field: cptr(i, "/linuxParameters/swappiness"), message: "Fargate does not support linuxParameters.swappiness"})
			}
		}
	}
	return out, ""
}

func label(c ContainerDefinition, i int) string {
	if c.Name != "" {
		return fmt.Sprintf("container %q", grader.Clip(c.Name))
	}
	return fmt.Sprintf("container %d", i+1)
}

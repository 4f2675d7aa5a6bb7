package taskdef

import (
	"fmt"
	"slices"
	"strings"

	"coldstart/grader"
)

// dependsOn: conditions START, COMPLETE, SUCCESS, HEALTHY; HEALTHY needs a
// health check on the dependency; COMPLETE and SUCCESS not on an essential
// container (facts.md, Task definition rules); no container may wait for
// itself, directly or in a circle.

var conditions = []string{"START", "COMPLETE", "SUCCESS", "HEALTHY"}

func checkDependsOn(td *TaskDefinition) ([]finding, string) {
	var out []finding
	byName := map[string]int{}
	for i, c := range td.ContainerDefinitions {
		byName[c.Name] = i
	}
	for i, c := range td.ContainerDefinitions {
		for j, d := range c.DependsOn {
			at := cptr(i, fmt.Sprintf("/dependsOn/%d", j))
			k, ok := byName[d.ContainerName]
			switch {
			case !ok:
				out = append(out, finding{field: at + "/containerName", message: fmt.Sprintf("%s depends on %q, which is not a container of this task", label(c, i), grader.Clip(d.ContainerName))})
				continue
			case k == i:
				out = append(out, finding{field: at + "/containerName", message: fmt.Sprintf("%s depends on itself", label(c, i))})
				continue
			}
			dep := td.ContainerDefinitions[k]
			switch d.Condition {
			case "HEALTHY":
				if dep.HealthCheck == nil {
					out = append(out, finding{field: at + "/condition", message: fmt.Sprintf("%s waits for %s to be HEALTHY, but %s has no health check", label(c, i), dep.Name, dep.Name)})
				}
			case "COMPLETE", "SUCCESS":
				if dep.IsEssential() {
					out = append(out, finding{field: at + "/condition", message: fmt.Sprintf("%s waits for %s to %s, but %s is essential: its exit would stop the task", label(c, i), dep.Name, strings.ToLower(d.Condition), dep.Name),
						hint: "Mark the container that runs to completion essential: false."})
				}
			case "START":
			default:
				out = append(out, finding{field: at + "/condition", message: fmt.Sprintf("condition %q is not one of %s", grader.Clip(d.Condition), strings.Join(conditions, ", ")), expected: strings.Join(conditions, ", ")})
			}
		}
	}
	if cyc := dependencyCycle(td); cyc != "" {
		out = append(out, finding{field: "/containerDefinitions", message: "the containers depend on each other in a circle (" + cyc + "), so none could start"})
	}
	return out, ""
}

// dependencyCycle returns a description of a dependsOn cycle, or "".
func dependencyCycle(td *TaskDefinition) string {
	deps := map[string][]string{}
	for _, c := range td.ContainerDefinitions {
		for _, d := range c.DependsOn {
			if d.ContainerName != c.Name {
				deps[c.Name] = append(deps[c.Name], d.ContainerName)
			}
		}
	}
	state := map[string]int{}
	var path []string
	var visit func(n string) string
	visit = func(n string) string {
		switch state[n] {
		case 1:
			i := slices.Index(path, n)
			return strings.Join(append(slices.Clone(path[i:]), n), " → ")
		case 2:
			return ""
		}
		state[n] = 1
		path = append(path, n)
		for _, d := range deps[n] {
			if c := visit(d); c != "" {
				return c
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return ""
	}
	for _, c := range td.ContainerDefinitions {
		if c := visit(c.Name); c != "" {
			return c
		}
	}
	return ""
}

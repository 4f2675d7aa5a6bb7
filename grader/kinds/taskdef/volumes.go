package taskdef

import (
	"fmt"
	"strings"

	"coldstart/grader"
)

// The Volume rules of the ECS API reference (Volume; MountPoint; VolumeFrom):
//   - a name of "Up to 255 letters (uppercase and lowercase), numbers,
//     underscores, and hyphens", which mountPoints name in sourceVolume;
//   - "Each volume… may only specify a name and one of either
//     configuredAtLaunch, dockerVolumeConfiguration, efsVolumeConfiguration,
//     s3filesVolumeConfiguration, fsxWindowsFileServerVolumeConfiguration, or
//     host", and "only one volume configured at launch is supported";
//   - "Docker volumes aren't supported by tasks run on AWS Fargate";
//   - volumesFrom names "another container within the same task definition".
func checkVolumes(td *TaskDefinition) ([]finding, string) {
	var out []finding
	names := map[string]bool{}
	atLaunch := 0
	for i, v := range td.Volumes {
		at := fmt.Sprintf("/volumes/%d", i)
		switch {
		case v.Name == "":
			out = append(out, finding{field: at + "/name", message: fmt.Sprintf("volume %d has no name, so no mount point can use it", i+1), expected: "a name of letters, digits, hyphens or underscores"})
		case !nameRE.MatchString(v.Name):
			out = append(out, finding{field: at + "/name", message: fmt.Sprintf("volume name %q may only hold letters, digits, hyphens and underscores, at most 255 of them", grader.Clip(v.Name))})
		case names[v.Name]:
			out = append(out, finding{field: at + "/name", message: fmt.Sprintf("two volumes are named %q", grader.Clip(v.Name))})
		}
		names[v.Name] = true
		var kinds []string
		for _, k := range []struct {
			name string
			set  bool
		}{{"configuredAtLaunch", v.ConfiguredAtLaunch != nil && *v.ConfiguredAtLaunch}, {"dockerVolumeConfiguration", v.Docker != nil},
			{"efsVolumeConfiguration", v.EFS != nil}, {"s3filesVolumeConfiguration", v.S3Files != nil},
			{"fsxWindowsFileServerVolumeConfiguration", v.FSx != nil}, {"host", v.Host != nil}} {
			if k.set {
				kinds = append(kinds, k.name)
			}
		}
		if len(kinds) > 1 {
			out = append(out, finding{field: at, message: fmt.Sprintf("volume %q gives %s; a volume may only specify one kind", grader.Clip(v.Name), strings.Join(kinds, " and ")), observed: strings.Join(kinds, ", ")})
		}
		if v.ConfiguredAtLaunch != nil && *v.ConfiguredAtLaunch {
			atLaunch++
			if atLaunch == 2 {
				out = append(out, finding{field: at + "/configuredAtLaunch", message: "only one volume configured at launch is supported in a task definition"})
			}
		}
		if v.Docker != nil && isFargate(td) {
			out = append(out, finding{field: at + "/dockerVolumeConfiguration", message: fmt.Sprintf("volume %q is a Docker volume, and Docker volumes aren't supported by tasks run on Fargate", grader.Clip(v.Name)),
				hint: "On Fargate use an EFS volume for shared data, or a volume with no configuration for scratch space."})
		}
	}
	containers := map[string]bool{}
	for _, c := range td.ContainerDefinitions {
		containers[c.Name] = true
	}
	for i, c := range td.ContainerDefinitions {
		for j, m := range c.MountPoints {
			if !names[m.SourceVolume] || m.SourceVolume == "" {
				out = append(out, finding{field: cptr(i, fmt.Sprintf("/mountPoints/%d/sourceVolume", j)),
					message: fmt.Sprintf("%s mounts %q, which is not a volume of this task definition", label(c, i), grader.Clip(m.SourceVolume)), expected: "the name of one of volumes"})
			}
		}
		for j, v := range c.VolumesFrom {
			if !containers[v.SourceContainer] || v.SourceContainer == c.Name {
				out = append(out, finding{field: cptr(i, fmt.Sprintf("/volumesFrom/%d/sourceContainer", j)),
					message: fmt.Sprintf("%s takes volumes from %q, which is not another container of this task definition", label(c, i), grader.Clip(v.SourceContainer))})
			}
		}
	}
	return out, ""
}

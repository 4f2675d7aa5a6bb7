package taskdef_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
)

// sidecars returns n non-essential metrics sidecars, each with 8 CPU units
// and 16 MiB, so that only their number can be wrong.
func sidecars(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"name": fmt.Sprintf("metrics-%d", i), "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/metrics-agent:1.8.0",
			"essential": false, "cpu": 8, "memory": 16}
	}
	return out
}

func withSidecars(n int) func(td map[string]any) {
	return func(td map[string]any) {
		td["containerDefinitions"] = append([]any{app(td)}, sidecars(n)...)
	}
}

// TestRegistrationRulesAsDocumented: each case cites where ECS states the
// rule or the form it accepts. fails is the one check that must fail ("" for
// none), message a phrase of its message.
func TestRegistrationRulesAsDocumented(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	digest := strings.Repeat("Ab", 32)
	tests := []struct {
		name        string
		change      func(td map[string]any)
		fails       string
		message     string
		registrable bool
	}{
		// facts.md, Task definition rules: at most 10 container definitions.
		{"ten containers", withSidecars(9), "", "", true},
		{"eleven containers", withSidecars(10), "taskdef.container-count", "at most 10 container definitions", false},
		{"forty sidecars", withSidecars(40), "taskdef.container-count", "lists 41 containers", false},

		// taskRoleArn: "The short name or full Amazon Resource Name (ARN) of
		// the IAM role" (RegisterTaskDefinition); executionRoleArn likewise
		// (aws-actions/amazon-ecs-render-task-definition#19).
		{"task role by short name", func(td map[string]any) { td["taskRoleArn"] = "api-worker-task-role" }, "", "", true},
		{"execution role by short name", func(td map[string]any) { td["executionRoleArn"] = "ecsTaskExecutionRole" }, "", "", true},
		{"both roles by short name", func(td map[string]any) {
			td["taskRoleArn"], td["executionRoleArn"] = "api-worker-task-role", "ecsTaskExecutionRole"
		}, "", "", true},
		{"short names swapped", func(td map[string]any) {
			td["taskRoleArn"], td["executionRoleArn"] = "ecsTaskExecutionRole", "api-worker-task-role"
		}, "scenario.roles", "swapped", true},
		{"another role by short name", func(td map[string]any) { td["taskRoleArn"] = "admin" }, "scenario.roles", "own AWS credentials", true},
		{"role of another account", func(td map[string]any) { td["taskRoleArn"] = "arn:aws:iam::210987654321:role/api-worker-task-role" }, "scenario.roles", "own AWS credentials", true},

		// cpu: "as an integer using CPU units (for example, 1024) or as a
		// string using vCPUs (for example, 1 vCPU or 1 vcpu)"; memory: "as a
		// string using GB (for example, 1GB or 1 GB)" (RegisterTaskDefinition).
		{"cpu 1 vcpu and memory 2GB", func(td map[string]any) { td["cpu"], td["memory"] = "1 vcpu", "2GB" }, "", "", true},
		{"memory 1024 MiB", func(td map[string]any) { td["memory"] = "1024" }, "", "", true},

		// image: letters of both cases, digits, - _ : . / #, up to 255; a
		// digest is sha256 and 64 hex digits of either case (ContainerDefinition).
		{"upper-case letters are accepted at registration", func(td map[string]any) {
			container(td, 1)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/Metrics-Agent:1.8.0"
		}, "", "", true},
		{"digest with upper-case hex", func(td map[string]any) {
			app(td)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker@sha256:" + digest
		}, "", "", true},
		{"digest of 63 hex digits", func(td map[string]any) {
			app(td)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker@sha256:" + digest[1:]
		}, "taskdef.image-form", "exactly 64 hexadecimal digits", false},
		{"digest by md5", func(td map[string]any) {
			app(td)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker@md5:" + strings.Repeat("a", 32)
		}, "taskdef.image-form", "only hash is sha256", false},
		{"no image", func(td map[string]any) { delete(container(td, 1), "image") }, "taskdef.image-form", "Container.image should not be null or empty", false},
		{"no container name", func(td map[string]any) { delete(container(td, 1), "name") }, "taskdef.containers", "Container.name should not be null or empty", false},
		{"image with a space", func(td map[string]any) { container(td, 1)["image"] = "metrics agent:1" }, "taskdef.image-form", "up to 255 letters", false},
		{"image of 256 characters", func(td map[string]any) { container(td, 1)["image"] = "a/" + strings.Repeat("b", 250) + ":1.80" }, "taskdef.image-form", "up to 255", false},

		// requiresCompatibilities: "Valid Values: EC2 | FARGATE | EXTERNAL | MANAGED_INSTANCES".
		{"Fargate and EC2", func(td map[string]any) { td["requiresCompatibilities"] = []any{"EC2", "FARGATE"} }, "", "", true},
		{"lower-case fargate", func(td map[string]any) { td["requiresCompatibilities"] = []any{"fargate"} }, "taskdef.compatibilities", "not a launch type", false},

		// The execution role ECS requires (its registration errors).
		{"secrets without an execution role", func(td map[string]any) { delete(td, "executionRoleArn") }, "taskdef.execution-role", "specifying container secrets", false},
		{"awslogs on Fargate without an execution role", func(td map[string]any) {
			delete(td, "executionRoleArn")
			delete(app(td), "secrets")
		}, "taskdef.execution-role", "to support log driver awslogs", false},
		{"ECR image on Fargate without an execution role", func(td map[string]any) {
			delete(td, "executionRoleArn")
			delete(app(td), "secrets")
			delete(app(td), "logConfiguration")
			delete(container(td, 1), "logConfiguration")
		}, "taskdef.execution-role", "to support ECR images", false},

		// Volume, MountPoint, VolumeFrom (ECS API reference).
		{"scratch volume mounted", func(td map[string]any) {
			td["volumes"] = []any{map[string]any{"name": "scratch"}}
			app(td)["mountPoints"] = []any{map[string]any{"sourceVolume": "scratch", "containerPath": "/tmp/scratch"}}
		}, "", "", true},
		{"EFS volume", func(td map[string]any) {
			td["volumes"] = []any{map[string]any{"name": "shared", "efsVolumeConfiguration": map[string]any{"fileSystemId": "fs-12345678"}}}
		}, "", "", true},
		{"mount of a missing volume", func(td map[string]any) {
			app(td)["mountPoints"] = []any{map[string]any{"sourceVolume": "data", "containerPath": "/data"}}
		}, "taskdef.volumes", "not a volume of this task definition", false},
		{"Docker volume on Fargate", func(td map[string]any) {
			td["volumes"] = []any{map[string]any{"name": "data", "dockerVolumeConfiguration": map[string]any{"driver": "local"}}}
		}, "taskdef.volumes", "aren't supported by tasks run on Fargate", false},
		{"volume of two kinds", func(td map[string]any) {
			td["volumes"] = []any{map[string]any{"name": "data", "host": map[string]any{}, "efsVolumeConfiguration": map[string]any{"fileSystemId": "fs-1"}}}
		}, "taskdef.volumes", "only specify one kind", false},
		{"two volumes configured at launch", func(td map[string]any) {
			td["volumes"] = []any{map[string]any{"name": "a", "configuredAtLaunch": true}, map[string]any{"name": "b", "configuredAtLaunch": true}}
		}, "taskdef.volumes", "only one volume configured at launch", false},
		{"volumes from a missing container", func(td map[string]any) {
			container(td, 1)["volumesFrom"] = []any{map[string]any{"sourceContainer": "web"}}
		}, "taskdef.volumes", "not another container", false},
		{"volumes from the app", func(td map[string]any) {
			container(td, 1)["volumesFrom"] = []any{map[string]any{"sourceContainer": "app", "readOnly": true}}
		}, "", "", true},

		// EphemeralStorage: 21–200 GiB.
		{"ephemeral storage 200 GiB", func(td map[string]any) { td["ephemeralStorage"] = map[string]any{"sizeInGiB": 200} }, "", "", true},
		{"ephemeral storage 500 GiB", func(td map[string]any) { td["ephemeralStorage"] = map[string]any{"sizeInGiB": 500} }, "taskdef.ephemeral-storage", "maximum of 200 GiB", false},

		// A CMD-SHELL command in several strings: not a documented
		// registration error, but not the documented form either.
		{"CMD-SHELL in several strings", func(td map[string]any) {
			app(td)["healthCheck"].(map[string]any)["command"] = []any{"CMD-SHELL", "curl", "-f", "http://localhost:8080/healthz"}
		}, "scenario.health-check", "one string", true},

		// Outside Fargate: task cpu 128–196608 units (RegisterTaskDefinition,
		// cpu); without task memory each container names its own.
		{"EC2 task cpu below 128 units", func(td map[string]any) {
			td["requiresCompatibilities"] = []any{"EC2"}
			td["cpu"] = "64"
		}, "taskdef.task-size", "128 (0.125 vCPU) to 196608", false},
		{"EC2 container without memory", func(td map[string]any) {
			td["requiresCompatibilities"] = []any{"EC2"}
			delete(td, "memory")
		}, "taskdef.container-limits", "At least one of 'memory' or 'memoryReservation' must be specified", false},
		{"port mappings with network mode none", func(td map[string]any) {
			td["requiresCompatibilities"] = []any{"EC2"}
			td["networkMode"] = "none"
		}, "taskdef.port-mappings", "networkMode none", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := taskdef.CheckStatic(ex.Spec, edit(t, ex.Solution, tt.change))
			if err != nil {
				t.Fatal(err)
			}
			if st.Registrable != tt.registrable {
				t.Errorf("registrable %v, want %v", st.Registrable, tt.registrable)
			}
			for _, c := range st.Checks {
				switch {
				case c.ID == tt.fails && c.Status != grader.CheckFail:
					t.Errorf("%s: %s (%s), want fail", c.ID, c.Status, c.Message)
				case c.ID == tt.fails && !strings.Contains(c.Message, tt.message):
					t.Errorf("%s: message %q lacks %q", c.ID, c.Message, tt.message)
				case tt.fails == "" && c.Status != grader.CheckPass:
					t.Errorf("%s: %s (%s), want pass", c.ID, c.Status, c.Message)
				}
			}
		})
	}
}

// TestStaticWrongAnswersFailTheirCheck: every known-wrong answer whose check
// is a static one fails that check without a container, and one that ECS
// would refuse at registration is not run.
func TestStaticWrongAnswersFailTheirCheck(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	n := 0
	for _, w := range ex.Wrong {
		if strings.HasPrefix(w.Fails, "run.") {
			continue
		}
		n++
		t.Run(w.File, func(t *testing.T) {
			st, err := taskdef.CheckStatic(ex.Spec, w.Body)
			if err != nil {
				t.Fatal(err)
			}
			var got *grader.Check
			for i := range st.Checks {
				if st.Checks[i].ID == w.Fails {
					got = &st.Checks[i]
				}
			}
			if got == nil || got.Status != grader.CheckFail || got.Message == "" {
				t.Fatalf("%s: %+v, want a failure with a message", w.Fails, got)
			}
			registration := strings.HasPrefix(w.Fails, "taskdef.") || strings.HasPrefix(w.Fails, "fargate.")
			if registration && w.Fails != "taskdef.image-tag" && st.Registrable {
				t.Errorf("%s fails %s, a registration rule, but the task definition counts as registrable", w.File, w.Fails)
			}
		})
	}
	if n < 10 {
		t.Errorf("%d static wrong answers, want at least 10", n)
	}
}

// TestAcceptedFormsPassThroughTheRunPhase grades, through the real run
// phase, the reference written in other forms ECS accepts: both roles by
// short name, cpu in vCPUs and memory in GB without a space. Each must pass
// every check, as the reference does. Needs Docker.
func TestAcceptedFormsPassThroughTheRunPhase(t *testing.T) {
	ex := gradertest.Load(t, exerciseDir)
	eng := newEngine(t)
	body := edit(t, ex.Solution, func(td map[string]any) {
		td["taskRoleArn"], td["executionRoleArn"] = "api-worker-task-role", "ecsTaskExecutionRole"
		td["cpu"], td["memory"] = "1 vcpu", "2GB"
	})
	res := eng.Grade(context.Background(), grader.Request{Spec: ex.Spec, Body: body})
	if res.Status != grader.StatusPass {
		t.Fatalf("status %s, want pass\n%s", res.Status, dump(t, res))
	}
	for _, c := range res.Checks {
		if c.Status != grader.CheckPass {
			t.Errorf("check %s is %s: %s", c.ID, c.Status, c.Message)
		}
	}
}

// BenchmarkStaticKnownWrong measures the static phase over every known-wrong
// answer in turn (the 41-container one is the largest input); the target is
// the same 5 ms per submission as BenchmarkStatic.
func BenchmarkStaticKnownWrong(b *testing.B) {
	ex := gradertest.Load(b, exerciseDir)
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range ex.Wrong {
			if _, err := taskdef.CheckStatic(ex.Spec, w.Body); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ex.Wrong)), "ns/submission")
}

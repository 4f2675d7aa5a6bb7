package taskdef_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"coldstart/grader"
	"coldstart/grader/gradertest"
	"coldstart/grader/kinds/taskdef"
)

// edit applies a change to the reference solution and returns the JSON.
func edit(t testing.TB, solution []byte, change func(td map[string]any)) []byte {
	t.Helper()
	var td map[string]any
	if err := json.Unmarshal(solution, &td); err != nil {
		t.Fatal(err)
	}
	change(td)
	b, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func container(td map[string]any, i int) map[string]any {
	return td["containerDefinitions"].([]any)[i].(map[string]any)
}

func app(td map[string]any) map[string]any { return container(td, 0) }

func TestStaticRules(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	tests := []struct {
		name        string
		change      func(td map[string]any)
		fails       string // check that must fail
		field       string // its field, when set
		registrable bool
	}{
		{"cpu as vCPU string", func(td map[string]any) { td["cpu"] = ".5 vCPU"; td["memory"] = "2048" }, "", "", true},
		{"1 vCPU with 2 GB", func(td map[string]any) { td["cpu"] = "1 vCPU"; td["memory"] = "2 GB" }, "", "", true},
		{"cpu not a Fargate size", func(td map[string]any) { td["cpu"] = "768" }, "fargate.cpu-memory", "/cpu", false},
		{"memory off the row", func(td map[string]any) { td["cpu"] = "256"; td["memory"] = "4096" }, "fargate.cpu-memory", "/memory", false},
		{"cpu as a number", func(td map[string]any) { td["cpu"] = 512 }, "taskdef.schema", "/cpu", false},
		{"cpu gibberish", func(td map[string]any) { td["cpu"] = "lots" }, "fargate.cpu-memory", "/cpu", false},
		{"memory missing", func(td map[string]any) { delete(td, "memory") }, "fargate.cpu-memory", "/memory", false},
		{"over budget", func(td map[string]any) { td["cpu"] = "2048"; td["memory"] = "4096" }, "scenario.task-size", "/cpu", true},
		{"under the need", func(td map[string]any) { td["cpu"] = "256"; td["memory"] = "1024" }, "scenario.task-size", "/cpu", true},
		{"no FARGATE", func(td map[string]any) { td["requiresCompatibilities"] = []any{"EC2"} }, "scenario.fargate", "/requiresCompatibilities", true},
		{"network mode absent", func(td map[string]any) { delete(td, "networkMode") }, "fargate.network-mode", "/networkMode", false},
		{"network mode unknown", func(td map[string]any) { td["networkMode"] = "vpc" }, "taskdef.network-mode", "/networkMode", false},
		{"family missing", func(td map[string]any) { delete(td, "family") }, "taskdef.family", "/family", false},
		{"family with a space", func(td map[string]any) { td["family"] = "api worker" }, "taskdef.family", "/family", false},
		{"container name with a dot", func(td map[string]any) { container(td, 1)["name"] = "metrics.agent" }, "taskdef.containers", "/containerDefinitions/1/name", false},
		{"duplicate names", func(td map[string]any) { container(td, 1)["name"] = "app" }, "taskdef.containers", "/containerDefinitions/1/name", false},
		{"no containers", func(td map[string]any) { td["containerDefinitions"] = []any{} }, "taskdef.containers", "/containerDefinitions", false},
		{"image with spaces", func(td map[string]any) { app(td)["image"] = "api worker:1" }, "taskdef.image-form", "/containerDefinitions/0/image", false},
		{"image bad digest", func(td map[string]any) { app(td)["image"] = "x/api-worker@sha256:abc" }, "taskdef.image-form", "/containerDefinitions/0/image", false},
		{"image by digest", func(td map[string]any) {
			app(td)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker@sha256:" + strings.Repeat("ab", 32)
		}, "", "", true},
		{"no tag", func(td map[string]any) { app(td)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-worker" }, "taskdef.image-tag", "/containerDefinitions/0/image", true},
		{"other repository", func(td map[string]any) { app(td)["image"] = "public.ecr.aws/nginx/nginx:1.27" }, "scenario.app-container", "/containerDefinitions/0/image", true},
		{"app not essential", func(td map[string]any) { app(td)["essential"] = false }, "scenario.app-container", "/containerDefinitions/0/essential", false},
		{"nothing essential", func(td map[string]any) { app(td)["essential"] = false; container(td, 1)["essential"] = false }, "taskdef.essential", "/containerDefinitions", false},
		{"no app container", func(td map[string]any) { app(td)["name"] = "web" }, "scenario.app-container", "/containerDefinitions", true},
		{"wrong container port", func(td map[string]any) { app(td)["portMappings"] = []any{map[string]any{"containerPort": 9090}} }, "scenario.port", "/containerDefinitions/0/portMappings", true},
		{"port as string", func(td map[string]any) { app(td)["portMappings"] = []any{map[string]any{"containerPort": "8080"}} }, "taskdef.schema", "/containerDefinitions/0/portMappings/0/containerPort", false},
		{"port out of range", func(td map[string]any) { app(td)["portMappings"] = []any{map[string]any{"containerPort": 70000}} }, "taskdef.port-mappings", "/containerDefinitions/0/portMappings/0/containerPort", false},
		{"huge port", func(td map[string]any) { app(td)["portMappings"] = []any{map[string]any{"containerPort": 1e30}} }, "taskdef.schema", "/containerDefinitions/0/portMappings/0/containerPort", false},
		{"fractional port", func(td map[string]any) { app(td)["portMappings"] = []any{map[string]any{"containerPort": 8080.5}} }, "taskdef.schema", "/containerDefinitions/0/portMappings/0/containerPort", false},
		{"protocol http", func(td map[string]any) {
			app(td)["portMappings"] = []any{map[string]any{"containerPort": 8080, "protocol": "http"}}
		}, "taskdef.port-mappings", "/containerDefinitions/0/portMappings/0/protocol", false},
		{"hostPort equal is fine", func(td map[string]any) {
			app(td)["portMappings"] = []any{map[string]any{"containerPort": 8080, "hostPort": 8080}}
		}, "", "", true},
		{"secret value in valueFrom", func(td map[string]any) {
			app(td)["secrets"] = []any{map[string]any{"name": "DB_PASSWORD", "valueFrom": "correct horse battery staple"}}
		}, "taskdef.secret-refs", "/containerDefinitions/0/secrets/0/valueFrom", false},
		// A bare name is an SSM parameter of the task's Region (Secret, valueFrom):
		// registrable, but not the Secrets Manager secret the app needs.
		{"SSM parameter by name", func(td map[string]any) {
			app(td)["secrets"] = []any{map[string]any{"name": "DB_PASSWORD", "valueFrom": "prod/db-password"}}
		}, "scenario.secret", "/containerDefinitions/0/secrets/0/valueFrom", true},
		{"ssm parameter for the secret", func(td map[string]any) {
			app(td)["secrets"] = []any{map[string]any{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db-password"}}
		}, "scenario.secret", "/containerDefinitions/0/secrets/0/valueFrom", true},
		{"secret with json key", func(td map[string]any) {
			app(td)["secrets"] = []any{map[string]any{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-AbCdEf:password::"}}
		}, "", "", true},
		{"secret missing", func(td map[string]any) { delete(app(td), "secrets") }, "scenario.secret", "/containerDefinitions/0/secrets", true},
		{"shell command in a field", func(td map[string]any) { td["family"] = "api; rm -rf /" }, "taskdef.family", "/family", false},
		{"execution role missing", func(td map[string]any) { delete(td, "executionRoleArn") }, "taskdef.execution-role", "/executionRoleArn", false},
		{"log driver not on Fargate", func(td map[string]any) { app(td)["logConfiguration"] = map[string]any{"logDriver": "json-file"} }, "taskdef.log-config", "/containerDefinitions/0/logConfiguration/logDriver", false},
		{"awslogs without prefix", func(td map[string]any) {
			delete(app(td)["logConfiguration"].(map[string]any)["options"].(map[string]any), "awslogs-stream-prefix")
		}, "taskdef.log-config", "/containerDefinitions/0/logConfiguration/options", false},
		{"wrong log group", func(td map[string]any) {
			app(td)["logConfiguration"].(map[string]any)["options"].(map[string]any)["awslogs-group"] = "/ecs/other"
		}, "scenario.logs", "/containerDefinitions/0/logConfiguration/options/awslogs-group", true},
		{"health command without CMD", func(td map[string]any) {
			app(td)["healthCheck"].(map[string]any)["command"] = []any{"curl -f http://localhost:8080/healthz"}
		}, "taskdef.health-check-ranges", "/containerDefinitions/0/healthCheck/command/0", false},
		{"interval too short", func(td map[string]any) { app(td)["healthCheck"].(map[string]any)["interval"] = 1 }, "taskdef.health-check-ranges", "/containerDefinitions/0/healthCheck/interval", false},
		{"retries too many", func(td map[string]any) { app(td)["healthCheck"].(map[string]any)["retries"] = 11 }, "taskdef.health-check-ranges", "/containerDefinitions/0/healthCheck/retries", false},
		{"start period too long", func(td map[string]any) { app(td)["healthCheck"].(map[string]any)["startPeriod"] = 301 }, "taskdef.health-check-ranges", "/containerDefinitions/0/healthCheck/startPeriod", false},
		{"health check on another path", func(td map[string]any) {
			app(td)["healthCheck"].(map[string]any)["command"] = []any{"CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"}
		}, "scenario.health-check", "/containerDefinitions/0/healthCheck/command", true},
		{"CMD form with wget", func(td map[string]any) {
			app(td)["healthCheck"].(map[string]any)["command"] = []any{"CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"}
		}, "", "", true},
		{"no start period, defaults", func(td map[string]any) {
			app(td)["healthCheck"] = map[string]any{"command": []any{"CMD-SHELL", "curl -f http://localhost:8080/healthz"}}
		}, "", "", true},
		{"retries cover the start-up", func(td map[string]any) {
			app(td)["healthCheck"] = map[string]any{"command": []any{"CMD-SHELL", "curl -f http://localhost:8080/healthz"}, "interval": 5, "retries": 3}
		}, "", "", true},
		{"unhealthy during start-up", func(td map[string]any) {
			app(td)["healthCheck"] = map[string]any{"command": []any{"CMD-SHELL", "curl -f http://localhost:8080/healthz"}, "interval": 5, "retries": 2}
		}, "scenario.health-startup", "/containerDefinitions/0/healthCheck", true},
		{"start period ends at start-up", func(td map[string]any) {
			app(td)["healthCheck"] = map[string]any{"command": []any{"CMD-SHELL", "curl -f http://localhost:8080/healthz"}, "interval": 10, "retries": 1, "startPeriod": 10}
		}, "scenario.health-startup", "/containerDefinitions/0/healthCheck", true},
		{"no health check", func(td map[string]any) { delete(app(td), "healthCheck") }, "scenario.health-check", "/containerDefinitions/0/healthCheck", true},
		{"stop timeout default covers", func(td map[string]any) { delete(app(td), "stopTimeout") }, "", "", true},
		{"stop timeout 19", func(td map[string]any) { app(td)["stopTimeout"] = 19 }, "scenario.stop-timeout", "/containerDefinitions/0/stopTimeout", true},
		{"stop timeout 1", func(td map[string]any) { app(td)["stopTimeout"] = 1 }, "fargate.timeouts", "/containerDefinitions/0/stopTimeout", false},
		{"start timeout 200", func(td map[string]any) { app(td)["startTimeout"] = 200 }, "fargate.timeouts", "/containerDefinitions/0/startTimeout", false},
		{"privileged", func(td map[string]any) { app(td)["privileged"] = true }, "fargate.unsupported", "/containerDefinitions/0/privileged", false},
		{"devices", func(td map[string]any) {
			app(td)["linuxParameters"] = map[string]any{"devices": []any{map[string]any{"hostPath": "/dev/fuse"}}}
		}, "fargate.unsupported", "/containerDefinitions/0/linuxParameters/devices", false},
		{"shared memory", func(td map[string]any) { app(td)["linuxParameters"] = map[string]any{"sharedMemorySize": 64} }, "fargate.unsupported", "/containerDefinitions/0/linuxParameters/sharedMemorySize", false},
		{"swap", func(td map[string]any) { app(td)["linuxParameters"] = map[string]any{"maxSwap": 0, "swappiness": 10} }, "fargate.unsupported", "/containerDefinitions/0/linuxParameters/maxSwap", false},
		{"pid mode host", func(td map[string]any) { td["pidMode"] = "host" }, "fargate.unsupported", "/pidMode", false},
		{"ipc mode", func(td map[string]any) { td["ipcMode"] = "task" }, "fargate.unsupported", "/ipcMode", false},
		{"memory below reservation", func(td map[string]any) { app(td)["memory"] = 256; app(td)["memoryReservation"] = 512 }, "taskdef.container-limits", "/containerDefinitions/0/memoryReservation", false},
		{"containers over task memory", func(td map[string]any) { app(td)["memoryReservation"] = 1000 }, "taskdef.container-limits", "/containerDefinitions", false},
		{"containers over task cpu", func(td map[string]any) { app(td)["cpu"] = 512 }, "taskdef.container-limits", "/containerDefinitions", false},
		{"depends on a missing container", func(td map[string]any) {
			container(td, 1)["dependsOn"] = []any{map[string]any{"containerName": "db", "condition": "START"}}
		}, "taskdef.depends-on", "/containerDefinitions/1/dependsOn/0/containerName", false},
		{"HEALTHY without a health check", func(td map[string]any) {
			app(td)["dependsOn"] = []any{map[string]any{"containerName": "metrics", "condition": "HEALTHY"}}
		}, "taskdef.depends-on", "/containerDefinitions/0/dependsOn/0/condition", false},
		{"SUCCESS on an essential container", func(td map[string]any) {
			container(td, 1)["dependsOn"] = []any{map[string]any{"containerName": "app", "condition": "SUCCESS"}}
		}, "taskdef.depends-on", "/containerDefinitions/1/dependsOn/0/condition", false},
		{"unknown condition", func(td map[string]any) {
			container(td, 1)["dependsOn"] = []any{map[string]any{"containerName": "app", "condition": "READY"}}
		}, "taskdef.depends-on", "/containerDefinitions/1/dependsOn/0/condition", false},
		{"dependency cycle", func(td map[string]any) {
			container(td, 1)["dependsOn"] = []any{map[string]any{"containerName": "app", "condition": "START"}}
			app(td)["dependsOn"] = []any{map[string]any{"containerName": "metrics", "condition": "START"}}
		}, "taskdef.depends-on", "/containerDefinitions", false},
		{"HEALTHY dependency is fine", func(td map[string]any) {
			container(td, 1)["dependsOn"] = []any{map[string]any{"containerName": "app", "condition": "HEALTHY"}}
		}, "", "", true},
		{"sidecar essential", func(td map[string]any) { delete(container(td, 1), "essential") }, "scenario.sidecars", "/containerDefinitions/1/essential", true},
		{"unknown top-level field", func(td map[string]any) { td["taskDefinitionArn"] = "x" }, "taskdef.schema", "/taskDefinitionArn", false},
		{"wrong case", func(td map[string]any) { app(td)["Essential"] = true }, "taskdef.schema", "/containerDefinitions/0/Essential", false},
		{"environment as a map", func(td map[string]any) { app(td)["environment"] = map[string]any{"A": "b"} }, "taskdef.schema", "/containerDefinitions/0/environment", false},
		{"key with a slash", func(td map[string]any) { td["a/b~c"] = 1 }, "taskdef.schema", "/a~1b~0c", false},
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
				if c.Status == grader.CheckFail && c.ID != tt.fails && tt.fails == "" {
					t.Errorf("check %s failed: %s", c.ID, c.Message)
				}
				if c.Status == grader.CheckFail && (c.Message == "" || c.Field == "" && c.ID != "taskdef.schema") {
					t.Errorf("check %s failed without a message or field: %+v", c.ID, c)
				}
			}
			if tt.fails == "" {
				return
			}
			var got *grader.Check
			for i := range st.Checks {
				if st.Checks[i].ID == tt.fails {
					got = &st.Checks[i]
				}
			}
			if got == nil || got.Status != grader.CheckFail {
				t.Fatalf("check %s did not fail: %+v", tt.fails, got)
			}
			if tt.field != "" && got.Field != tt.field {
				t.Errorf("check %s points at %q, want %q (%s)", tt.fails, got.Field, tt.field, got.Message)
			}
		})
	}
}

func TestSolutionPassesEveryStaticCheck(t *testing.T) {
	ex := gradertest.Load(t, "../../../exercises/fargate-task-definition")
	st, err := taskdef.CheckStatic(ex.Spec, ex.Solution)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Checks {
		if c.Status != grader.CheckPass {
			t.Errorf("%s: %s %s", c.ID, c.Status, c.Message)
		}
	}
	if !st.Registrable {
		t.Error("solution not registrable")
	}
}

func TestParseReportsWhereJSONBreaks(t *testing.T) {
	tests := []struct {
		body       string
		line, col  int
		messageHas string
	}{
		{"{\n  \"family\": \"x\",\n  \"cpu\": 512,,\n}", 3, 14, "malformed JSON"},
		{"{\"family\": \"x\"", 1, 15, "malformed JSON"},
		{"[1, 2]", 0, 0, "JSON object"},
		{"\"just a string\"", 0, 0, "JSON object"},
		{"{} {}", 1, 4, "more than one value"},
		{"", 1, 1, "empty"},
		{"family: api-worker", 1, 3, "malformed JSON"},
	}
	for _, tt := range tests {
		_, _, err := taskdef.Parse([]byte(tt.body))
		var ie *grader.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%q: error %v, want an InputError", tt.body, err)
			continue
		}
		if ie.Line != tt.line || (tt.col != 0 && ie.Column != tt.col) {
			t.Errorf("%q: line %d column %d, want %d:%d (%s)", tt.body, ie.Line, ie.Column, tt.line, tt.col, ie.Message)
		}
		if !strings.Contains(ie.Message, tt.messageHas) {
			t.Errorf("%q: message %q, want it to contain %q", tt.body, ie.Message, tt.messageHas)
		}
	}
}

func TestSizeForms(t *testing.T) {
	cpus := map[string]int64{"256": 256, ".25 vCPU": 256, "0.5 vCPU": 512, "1 vCPU": 1024, "1 vcpu": 1024, "16 vCPU": 16384}
	for in, want := range cpus {
		if got, err := taskdef.ParseCPU(in); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	mems := map[string]int64{"512": 512, "2 GB": 2048, "0.5 GB": 512, "30GB": 30720}
	for in, want := range mems {
		if got, err := taskdef.ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.1 vCPU", "abc", "1e400 vCPU", "NaN vCPU"} {
		if _, err := taskdef.ParseCPU(bad); err == nil {
			t.Errorf("ParseCPU(%q): no error", bad)
		}
	}
	for _, bad := range []string{"", "0", "1.0001 GB", "2 TB"} {
		if _, err := taskdef.ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q): no error", bad)
		}
	}
}

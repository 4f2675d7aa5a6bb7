package cloudrun

import (
	"errors"
	"strings"
	"testing"

	"coldstart/grader"
)

const validService = `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: orders-api
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/minScale: "4"
        autoscaling.knative.dev/maxScale: "6"
    spec:
      containerConcurrency: 4
      containers:
        - image: europe-docker.pkg.dev/acme-shop/apps/orders-api:3f9c2e1
          resources:
            limits:
              cpu: "1"
              memory: 512Mi
`

// doc is a service YAML under edit.
type doc string

// r replaces old, which must be there, with new.
func (d doc) r(old, new string) doc {
	if !strings.Contains(string(d), old) {
		panic("the document lacks " + old)
	}
	return doc(strings.Replace(string(d), old, new, 1))
}

// edit returns validService with old replaced by new (which must be there).
func edit(t *testing.T, old, new string) doc {
	t.Helper()
	if !strings.Contains(validService, old) {
		t.Fatalf("validService lacks %q", old)
	}
	return doc(strings.Replace(validService, old, new, 1))
}

func TestStaticChecks(t *testing.T) {
	tests := []struct {
		name     string
		body     doc
		fails    string // the check that must fail; "" means all pass
		field    string // its field
		message  string // part of its message
		mustPass []string
	}{
		{name: "Valid", body: validService},
		{name: "ConcurrencyAbsentMeans80", body: edit(t, "      containerConcurrency: 4\n", ""), mustPass: []string{"cloudrun.concurrency"}},
		{name: "ConcurrencyZeroMeans80", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 0")},
		{name: "Concurrency1000", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 1000")},
		{name: "Concurrency1001", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 1001"),
			fails: "cloudrun.concurrency", field: pathConcurrency, message: "1–1000"},
		{name: "ConcurrencyNegative", body: edit(t, "containerConcurrency: 4", "containerConcurrency: -3"),
			fails: "cloudrun.concurrency", message: "-3"},
		{name: "ConcurrencyQuoted", body: edit(t, "containerConcurrency: 4", `containerConcurrency: "4"`),
			fails: "cloudrun.concurrency", message: "leave out the quotes"},
		{name: "ConcurrencyHuge", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 99999999999999999999999"),
			fails: "cloudrun.concurrency"},
		{name: "ConcurrencyShell", body: edit(t, "containerConcurrency: 4", "containerConcurrency: $(rm -rf /)"),
			fails: "cloudrun.concurrency", message: "whole number"},
		{name: "MinAboveMax", body: edit(t, `minScale: "4"`, `minScale: "8"`),
			fails: "cloudrun.scale", field: annotationPath(pathAnnotations, annMinScale), message: "minScale 8 is above maxScale 6"},
		{name: "MinAboveDefaultMax", body: edit(t, "        autoscaling.knative.dev/maxScale: \"6\"\n", "").r(`minScale: "4"`, `minScale: "150"`),
			fails: "cloudrun.scale", message: "default maxScale of 100"},
		{name: "MaxZero", body: edit(t, `maxScale: "6"`, `maxScale: "0"`).r(`minScale: "4"`, `minScale: "0"`),
			fails: "cloudrun.scale", message: "at least 1"},
		{name: "ScaleNotANumber", body: edit(t, `minScale: "4"`, `minScale: "four"`), fails: "cloudrun.scale", message: `not "four"`},
		{name: "ScaleUnquotedNumberAccepted", body: edit(t, `minScale: "4"`, `minScale: 4`)},
		{name: "ScaleNegative", body: edit(t, `minScale: "4"`, `minScale: "-1"`), fails: "cloudrun.scale", message: "negative"},
		{name: "ScaleOnServiceOnly", body: edit(t, "  name: orders-api\n", "  name: orders-api\n  annotations:\n    autoscaling.knative.dev/minScale: \"4\"\n").
			r("        autoscaling.knative.dev/minScale: \"4\"\n", ""),
			fails: "cloudrun.scale-annotations", field: annotationPath("metadata.annotations", annMinScale), message: "reads it on spec.template.metadata.annotations"},
		// The service-wide minimum is a documented service annotation (YAML reference).
		{name: "ServiceWideMinScaleAccepted", body: edit(t, "  name: orders-api\n", "  name: orders-api\n  annotations:\n    run.googleapis.com/minScale: \"4\"\n")},
		{name: "ServiceWideMinScaleOnTemplate", body: edit(t, "autoscaling.knative.dev/minScale", "run.googleapis.com/minScale"),
			fails: "cloudrun.scale-annotations", message: "service-wide setting"},
		{name: "MisspeltAnnotation", body: edit(t, "autoscaling.knative.dev/minScale", "autoscaling.knative.dev/minscale"),
			fails: "cloudrun.scale-annotations", message: "spelled autoscaling.knative.dev/minScale"},
		{name: "HalfCPUConcurrency10", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 10").r(`cpu: "1"`, `cpu: "0.5"`),
			fails: "cloudrun.cpu-concurrency", field: pathConcurrency, message: "you set 10"},
		// "If not specified or 0, defaults to 80 when requested CPU >= 1 and
		// defaults to 1 when requested CPU < 1" (Admin API v1, RevisionSpec).
		{name: "MilliCPUConcurrencyAbsentMeans1", body: edit(t, "      containerConcurrency: 4\n", "").r(`cpu: "1"`, `cpu: 500m`)},
		{name: "HalfCPUConcurrency1", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 1").r(`cpu: "1"`, `cpu: 0.5`)},
		{name: "CPUTooMuch", body: edit(t, `cpu: "1"`, `cpu: "16"`), fails: "cloudrun.resources", message: "maximum of 8 vCPU"},
		{name: "MemoryNeeds4CPU", body: edit(t, "memory: 512Mi", "memory: 8Gi"), fails: "cloudrun.resources", message: "needs at least 2 vCPU"},
		{name: "Memory4GiOn1CPU", body: edit(t, "memory: 512Mi", "memory: 4Gi")},
		{name: "Memory2GiOnHalfCPU", body: edit(t, "memory: 512Mi", "memory: 2Gi").r(`cpu: "1"`, `cpu: "0.5"`).r("containerConcurrency: 4", "containerConcurrency: 1"),
			fails: "cloudrun.resources", message: "needs at least 1 vCPU"},
		{name: "MemoryTooMuch", body: edit(t, "memory: 512Mi", "memory: 40Gi").r(`cpu: "1"`, `cpu: "8"`), fails: "cloudrun.resources", message: "32Gi"},
		{name: "MemoryMilli", body: edit(t, "memory: 512Mi", "memory: 512m"), fails: "cloudrun.resources", message: "less than one byte"},
		{name: "MemoryGarbage", body: edit(t, "memory: 512Mi", "memory: lots"), fails: "cloudrun.resources", message: "not a quantity"},
		{name: "CPUZero", body: edit(t, `cpu: "1"`, `cpu: "0"`), fails: "cloudrun.resources", message: "more than zero"},
		{name: "UnknownFieldWithSuggestion", body: edit(t, "containerConcurrency:", "containerConcurency:"),
			fails: "cloudrun.schema", field: "spec.template.spec.containerConcurency", message: "did you mean containerConcurrency?"},
		{name: "UnknownTopField", body: validService + "status: {}\n", fails: "cloudrun.schema", message: "status is what Cloud Run reports"},
		{name: "LineInMessage", body: edit(t, "kind: Service", "kind: Service\nfoo: bar"), fails: "cloudrun.schema", message: "line 3:"},
		{name: "WrongAPIVersion", body: edit(t, "serving.knative.dev/v1", "apps/v1"), fails: "cloudrun.service", message: `"apps/v1"`},
		{name: "WrongKind", body: edit(t, "kind: Service", "kind: Deployment"), fails: "cloudrun.service", field: "kind"},
		{name: "NoContainers", body: doc(strings.SplitN(validService, "      containers:", 2)[0]), fails: "cloudrun.service", message: "needs one container"},
		{name: "TwoContainers", body: validService + "        - image: sidecar:1\n", fails: "cloudrun.service", message: "lists 2 containers"},
		{name: "ContainersNotAList", body: doc(strings.SplitN(validService, "      containers:", 2)[0] + "      containers: nginx\n"),
			fails: "cloudrun.schema", message: "must be a list"},
		{name: "DuplicateKey", body: edit(t, "kind: Service", "kind: Service\nkind: Service"), fails: "cloudrun.schema", message: "given twice"},
		{name: "Alias", body: edit(t, "  name: orders-api", "  name: &n orders-api\n  namespace: *n"), fails: "cloudrun.schema", message: "anchor or alias"},
		{name: "TimeoutTooLong", body: edit(t, "containerConcurrency: 4", "containerConcurrency: 4\n      timeoutSeconds: 7200"),
			fails: "cloudrun.timeout", message: "1–3600"},
		{name: "PortOutOfRange", body: edit(t, "        - image:", "        - ports:\n            - containerPort: 70000\n          image:"),
			fails: "cloudrun.contract", message: "1–65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ParseService([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseService: %v", err)
			}
			checks := judge(svc)
			if len(checks) != len(staticChecks) {
				t.Fatalf("%d checks, want %d", len(checks), len(staticChecks))
			}
			for _, c := range checks {
				if c.Phase != grader.PhaseStatic {
					t.Errorf("%s: phase %q", c.ID, c.Phase)
				}
				if c.ID == tt.fails {
					if c.Status != grader.CheckFail {
						t.Errorf("%s: %s (%s), want fail", c.ID, c.Status, c.Message)
					}
					if tt.field != "" && c.Field != tt.field {
						t.Errorf("%s: field %q, want %q", c.ID, c.Field, tt.field)
					}
					if !strings.Contains(c.Message, tt.message) {
						t.Errorf("%s: message %q lacks %q", c.ID, c.Message, tt.message)
					}
					continue
				}
				if tt.fails == "" || contains(tt.mustPass, c.ID) {
					if c.Status != grader.CheckPass {
						t.Errorf("%s: %s (%s), want pass", c.ID, c.Status, c.Message)
					}
				}
			}
		})
	}
}

func TestParseServiceInputErrors(t *testing.T) {
	tests := []struct {
		name, body string
		line       int
		message    string
	}{
		{"Empty", "  \n", 0, "empty"},
		{"BadIndent", "apiVersion: v1\nkind: Service\n  metadata: x\n", 3, "malformed YAML"},
		{"UnclosedQuote", "apiVersion: \"serving\nkind: Service\n", 0, "malformed YAML"},
		{"TabIndent", "spec:\n\ttemplate: {}\n", 2, "malformed YAML"},
		{"NotAMapping", "- a\n- b\n", 1, "must be a YAML mapping"},
		{"JustAString", "hello\n", 1, "must be a YAML mapping"},
		{"TwoDocuments", validService + "---\napiVersion: v1\n", 19, "more than one YAML document"},
		{"DeepNesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 0, "malformed YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseService([]byte(tt.body))
			var ie *grader.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *grader.InputError", err, err)
			}
			if !strings.Contains(ie.Message, tt.message) {
				t.Errorf("message %q lacks %q", ie.Message, tt.message)
			}
			if tt.line != 0 && ie.Line != tt.line {
				t.Errorf("line %d, want %d (%s)", ie.Line, tt.line, ie.Message)
			}
		})
	}
}

func TestParseServiceReadsSettings(t *testing.T) {
	svc, err := ParseService([]byte(edit(t, `cpu: "1"`, `cpu: 2000m`)))
	if err != nil {
		t.Fatal(err)
	}
	if svc.Concurrency != 4 || svc.MinScale != 4 || svc.MaxScale != 6 || svc.CPU != 2 || svc.MemoryBytes != 512<<20 || svc.Port != 8080 {
		t.Errorf("got %+v", svc)
	}
	if got := svc.Lines[pathConcurrency]; got != 12 {
		t.Errorf("containerConcurrency on line %d, want 12", got)
	}
	svc, err = ParseService([]byte("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{image: x}]}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if svc.EffectiveConcurrency() != 80 || svc.MinScale != 0 || svc.MaxScale != 100 || svc.CPU != 1 || svc.MemoryBytes != 512<<20 {
		t.Errorf("defaults: got %+v", svc)
	}
}

func BenchmarkStatic(b *testing.B) {
	body := []byte(validService)
	for b.Loop() {
		svc, err := ParseService(body)
		if err != nil {
			b.Fatal(err)
		}
		judge(svc)
	}
}

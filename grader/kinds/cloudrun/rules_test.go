package cloudrun

import (
	"strings"
	"testing"

	"coldstart/grader"
)

// ruleCase is a service built from validService by edits, and the one
// check it must fail ("" when every check passes).
type ruleCase struct {
	name    string
	body    doc
	fails   string
	message string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ParseService([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseService: %v", err)
			}
			for _, c := range judge(svc) {
				switch {
				case c.ID == tt.fails && c.Status != grader.CheckFail:
					t.Errorf("%s: %s (%s), want fail", c.ID, c.Status, c.Message)
				case c.ID == tt.fails && !strings.Contains(c.Message, tt.message):
					t.Errorf("%s: message %q lacks %q", c.ID, c.Message, tt.message)
				case c.ID == tt.fails && c.Field == "":
					t.Errorf("%s failed without a field", c.ID)
				case c.ID != tt.fails && c.Status != grader.CheckPass:
					t.Errorf("%s: %s (%s), want pass", c.ID, c.Status, c.Message)
				}
			}
		})
	}
}

// resources sets the cpu and memory limits (and containerConcurrency 1, so
// that fractional CPUs are judged on their resources alone).
func resources(t *testing.T, cpu, mem string) doc {
	return edit(t, `cpu: "1"`, "cpu: "+cpu).r("memory: 512Mi", "memory: "+mem).r("containerConcurrency: 4", "containerConcurrency: 1")
}

// From "Configure CPU limits for services" (cloud.google.com/run/docs/
// configuring/services/cpu): the vCPU and memory table, 0.08–1 vCPU in
// steps of 0.001, integers above 1, at most 8; and "Configure memory limits"
// (…/services/memory-limits): at most 32 GiB, at least 128 MiB (first
// generation) or 512 MiB (second generation).
func TestResourcesAsDocumented(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "MinimumCPU0.08", body: resources(t, `"0.08"`, "512Mi")},
		{name: "BelowMinimumCPU", body: resources(t, `"0.05"`, "256Mi"), fails: "cloudrun.resources", message: "minimum of 0.08 vCPU"},
		{name: "StepOf0.001", body: resources(t, "333m", "512Mi")},
		{name: "NotAStepOf0.001", body: resources(t, `"0.3335"`, "512Mi"), fails: "cloudrun.resources", message: "steps of 0.001"},
		{name: "Above512MiNeedsHalfCPU", body: resources(t, `"0.25"`, "768Mi"), fails: "cloudrun.resources", message: "at least 0.5 vCPU"},
		{name: "HalfCPUWith1Gi", body: resources(t, `"0.5"`, "1Gi")},
		{name: "Above1GiNeedsOneCPU", body: resources(t, `"0.75"`, "2Gi"), fails: "cloudrun.resources", message: "at least 1 vCPU"},
		{name: "OneCPUUpTo4Gi", body: resources(t, `"1"`, "4Gi")},
		{name: "OneCPUAbove4Gi", body: resources(t, `"1"`, "5Gi"), fails: "cloudrun.resources", message: "up to 4Gi"},
		{name: "ThreeCPUsAreNotOffered", body: resources(t, `"3"`, "4Gi"), fails: "cloudrun.resources", message: "2, 4, 6 and 8"},
		{name: "OneAndAHalfCPUs", body: resources(t, `"1.5"`, "1Gi"), fails: "cloudrun.resources", message: "2, 4, 6 and 8"},
		{name: "TwoCPUsUpTo8Gi", body: resources(t, "2000m", "8Gi")},
		{name: "FourCPUsNeed2Gi", body: resources(t, `"4"`, "1Gi"), fails: "cloudrun.resources", message: "4 vCPU 2Gi to 16Gi"},
		{name: "FourCPUsWith16Gi", body: resources(t, `"4"`, "16Gi")},
		{name: "FourCPUsAbove16Gi", body: resources(t, `"4"`, "17Gi"), fails: "cloudrun.resources", message: "more than 16Gi needs at least 6 vCPU"},
		{name: "SixCPUsNeed4Gi", body: resources(t, `"6"`, "2Gi"), fails: "cloudrun.resources", message: "4Gi to 24Gi"},
		{name: "EightCPUsWith32Gi", body: resources(t, `"8"`, "32Gi")},
		{name: "NineCPUs", body: resources(t, `"9"`, "32Gi"), fails: "cloudrun.resources", message: "maximum of 8 vCPU"},
		{name: "MemoryAbove32Gi", body: resources(t, `"8"`, "33Gi"), fails: "cloudrun.resources", message: "maximum of 32Gi"},
		{name: "FirstGenerationMinimum128Mi", body: resources(t, `"1"`, "128Mi")},
		{name: "Below128Mi", body: resources(t, `"1"`, "64Mi"), fails: "cloudrun.resources", message: "minimum of 128Mi"},
		{name: "SecondGenerationMinimum512Mi", body: resources(t, `"1"`, "256Mi").r("maxScale: \"6\"\n", "maxScale: \"6\"\n        run.googleapis.com/execution-environment: gen2\n"),
			fails: "cloudrun.resources", message: "minimum of 512Mi for the second generation"},
		{name: "DecimalGigabytes", body: resources(t, `"2"`, "8G")},
		{name: "MemoryWithoutSuffixIsBytes", body: resources(t, `"1"`, "512"), fails: "cloudrun.resources", message: "without a suffix counts bytes"},
	})
}

// "If you use less than 1 vCPU, the following requirements are enforced":
// concurrency 1, request-based billing, first generation (Configure CPU
// limits for services); an unset concurrency below 1 vCPU defaults to 1
// (Admin API v1, RevisionSpec).
func TestBelowOneCPUAsDocumented(t *testing.T) {
	half := func() doc { return edit(t, `cpu: "1"`, `cpu: "0.5"`) }
	annotate := func(d doc, kv string) doc {
		return d.r("maxScale: \"6\"\n", "maxScale: \"6\"\n        "+kv+"\n")
	}
	runRuleCases(t, []ruleCase{
		{name: "Concurrency4", body: half(), fails: "cloudrun.cpu-concurrency", message: "you set 4"},
		{name: "Concurrency1", body: half().r("containerConcurrency: 4", "containerConcurrency: 1")},
		{name: "ConcurrencyZeroMeans1", body: half().r("containerConcurrency: 4", "containerConcurrency: 0")},
		{name: "InstanceBasedBilling", body: annotate(half().r("containerConcurrency: 4", "containerConcurrency: 1"), `run.googleapis.com/cpu-throttling: "false"`),
			fails: "cloudrun.cpu-concurrency", message: "request-based billing"},
		{name: "RequestBasedBilling", body: annotate(half().r("containerConcurrency: 4", "containerConcurrency: 1"), `run.googleapis.com/cpu-throttling: "true"`)},
		{name: "SecondGeneration", body: annotate(half().r("containerConcurrency: 4", "containerConcurrency: 1"), "run.googleapis.com/execution-environment: gen2"),
			fails: "cloudrun.cpu-concurrency", message: "first generation"},
		{name: "InstanceBasedBillingAtOneCPU", body: annotate(doc(validService), `run.googleapis.com/cpu-throttling: "false"`)},
	})
}

// The annotations of Cloud Run's YAML reference (cloud.google.com/run/docs/
// reference/yaml/v1), each on the level that reads it, and the values the
// references list (ExecutionEnvironment GEN1/GEN2; vpc-access-egress in
// RevisionTemplate).
func TestAnnotationsAsDocumented(t *testing.T) {
	tmpl := func(kv string) doc { return edit(t, "maxScale: \"6\"\n", "maxScale: \"6\"\n        "+kv+"\n") }
	svc := func(kv string) doc {
		return edit(t, "  name: orders-api\n", "  name: orders-api\n  annotations:\n    "+kv+"\n")
	}
	runRuleCases(t, []ruleCase{
		{name: "StartupCPUBoost", body: tmpl(`run.googleapis.com/startup-cpu-boost: "true"`)},
		{name: "StartupCPUBoostNotABoolean", body: tmpl(`run.googleapis.com/startup-cpu-boost: "yes"`), fails: "cloudrun.annotations", message: `"true" or "false"`},
		{name: "ExecutionEnvironmentGen3", body: tmpl("run.googleapis.com/execution-environment: gen3"), fails: "cloudrun.annotations", message: `"gen1" or "gen2"`},
		{name: "VPCEgress", body: tmpl("run.googleapis.com/vpc-access-egress: private-ranges-only")},
		{name: "VPCEgressUnknown", body: tmpl("run.googleapis.com/vpc-access-egress: everything"), fails: "cloudrun.annotations", message: "all-traffic"},
		{name: "CloudSQL", body: tmpl("run.googleapis.com/cloudsql-instances: acme-shop:europe-west1:orders")},
		{name: "IngressOnService", body: svc("run.googleapis.com/ingress: internal")},
		{name: "IngressOnTemplate", body: tmpl("run.googleapis.com/ingress: internal"), fails: "cloudrun.annotations", message: "service annotation"},
		{name: "CPUThrottlingOnService", body: svc(`run.googleapis.com/cpu-throttling: "false"`), fails: "cloudrun.annotations", message: "revision annotation"},
		{name: "MisspeltRevisionAnnotation", body: tmpl(`run.googleapis.com/cpu-throttle: "false"`), fails: "cloudrun.annotations", message: "did you mean run.googleapis.com/cpu-throttling?"},
		{name: "MisspeltServiceAnnotation", body: svc("run.googleapis.com/ingres: internal"), fails: "cloudrun.annotations", message: "did you mean run.googleapis.com/ingress?"},
		{name: "ForeignAnnotationIgnored", body: tmpl("team.acme.example/owner: orders")},
		{name: "ServiceMaxScaleLowersTheRevisions", body: svc(`run.googleapis.com/maxScale: "2"`), fails: "cloudrun.scale", message: "minScale 4 is above maxScale 2"},
		{name: "KnativeMaxScaleOnService", body: svc(`autoscaling.knative.dev/maxScale: "6"`), fails: "cloudrun.scale-annotations", message: "revision annotation"},
	})
}

// The container runtime contract: reserved environment variables
// ("Configure environment variables": they "are reserved and cannot be
// set"), the port's name as the protocol (ContainerPort: http1 or h2c).
func TestContainerContractAsDocumented(t *testing.T) {
	env := func(name string) doc {
		return edit(t, "          resources:", "          env:\n            - name: "+name+"\n              value: \"1\"\n          resources:")
	}
	port := func(lines string) doc {
		return edit(t, "          resources:", "          ports:\n"+lines+"          resources:")
	}
	runRuleCases(t, []ruleCase{
		{name: "PORTIsReserved", body: env("PORT"), fails: "cloudrun.contract", message: "PORT is set by Cloud Run"},
		{name: "K_SERVICEIsReserved", body: env("K_SERVICE"), fails: "cloudrun.contract", message: "K_SERVICE"},
		{name: "K_REVISIONIsReserved", body: env("K_REVISION"), fails: "cloudrun.contract", message: "K_REVISION"},
		{name: "K_CONFIGURATIONIsReserved", body: env("K_CONFIGURATION"), fails: "cloudrun.contract", message: "K_CONFIGURATION"},
		{name: "OwnVariable", body: env("LOG_LEVEL")},
		{name: "PortHTTP1", body: port("            - name: http1\n              containerPort: 8080\n")},
		{name: "PortH2C", body: port("            - name: h2c\n              containerPort: 9000\n")},
		{name: "PortNameHTTP", body: port("            - name: http\n              containerPort: 8080\n"), fails: "cloudrun.contract", message: "http1 or h2c"},
		{name: "TwoPorts", body: port("            - containerPort: 8080\n            - containerPort: 9090\n"), fails: "cloudrun.contract", message: "only one port"},
	})
}

func TestServiceWideScaleIsAppliedToTheRevision(t *testing.T) {
	svc, err := ParseService([]byte(edit(t, "  name: orders-api\n", "  name: orders-api\n  annotations:\n    run.googleapis.com/minScale: \"5\"\n")))
	if err != nil {
		t.Fatal(err)
	}
	if svc.MinScale != 5 || svc.MaxScale != 6 {
		t.Errorf("minScale %d maxScale %d, want 5 and 6", svc.MinScale, svc.MaxScale)
	}
	svc, err = ParseService([]byte(edit(t, "      containerConcurrency: 4\n", "").r(`cpu: "1"`, `cpu: "0.5"`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.EffectiveConcurrency(); got != 1 {
		t.Errorf("below 1 vCPU an unset containerConcurrency is %d, want 1", got)
	}
}

// Fields of the v1 Container and RevisionSpec (Admin API v1 reference) that
// the exercise does not judge are still Cloud Run fields.
func TestOtherV1FieldsAreKnown(t *testing.T) {
	probe := "          startupProbe:\n            httpGet:\n              path: /healthz\n          workingDir: /app\n          resources:"
	runRuleCases(t, []ruleCase{
		{name: "StartupProbeAndWorkingDir", body: edit(t, "          resources:", probe)},
		{name: "SecretFromSecretManager", body: edit(t, "          resources:",
			"          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db-password\n                  key: latest\n          resources:")},
		{name: "Volumes", body: edit(t, "      containers:", "      volumes:\n        - name: cache\n          emptyDir: {}\n      containers:")},
		{name: "ImagePullSecretsNotSupported", body: edit(t, "      containers:", "      imagePullSecrets:\n        - name: x\n      containers:"),
			fails: "cloudrun.schema", message: "Not supported by Cloud Run"},
	})
}

// "Service name must use only letters, numbers and '-'. Must begin with a
// letter and cannot end with a '-'. Maximum length is 63 characters."
// (Cloud Run's error, quoted in jamesward/cloud-run-button#4.)
func TestServiceNameAsDocumented(t *testing.T) {
	name := func(n string) doc { return edit(t, "  name: orders-api\n", "  name: "+n+"\n") }
	runRuleCases(t, []ruleCase{
		{name: "Hyphenated", body: name("orders-api-2")},
		{name: "StartsWithADigit", body: name("2orders"), fails: "cloudrun.service", message: "Must begin with a letter"},
		{name: "EndsWithAHyphen", body: name("orders-"), fails: "cloudrun.service", message: "cannot end with a '-'"},
		{name: "Underscore", body: name("orders_api"), fails: "cloudrun.service", message: "only letters, numbers and '-'"},
		{name: "SixtyThreeCharacters", body: name("o" + strings.Repeat("r", 62))},
		{name: "SixtyFourCharacters", body: name("o" + strings.Repeat("r", 63)), fails: "cloudrun.service", message: "Maximum length is 63"},
	})
}

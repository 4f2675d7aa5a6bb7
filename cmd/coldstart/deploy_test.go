package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	yaml "go.yaml.in/yaml/v3"

	"coldstart/server/grading"
)

const deployDir = "../../docs/deploy"

// The systemd unit passes systemd-analyze verify with no warning about the
// unit itself (verify exits 0 on unknown keys and bad values, so its
// output is what counts), and its ExecStart is a serve command line the
// server accepts.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(deployDir, "coldstart.service"))
	if err != nil {
		t.Fatal(err)
	}
	var execStart string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
	}
	fields := strings.Fields(execStart)
	if len(fields) < 2 || fields[0] != "/usr/local/bin/coldstart" || fields[1] != "serve" {
		t.Fatalf("ExecStart = %q", execStart)
	}
	if err := (&Main{}).ParseFlags(fields[2:], io.Discard); err != nil {
		t.Fatalf("ExecStart flags: %v", err)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/coldstart"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("unit lacks %s", want)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed to check the unit (apt-get install systemd)")
	}
	// verify wants the binary to exist: the test binary stands in for it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "coldstart.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/coldstart", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, path) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// The Compose file parses, runs the server with a command line it
// accepts, mounts the socket and a volume, and checks health with the
// binary (the image has no shell).
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string   `yaml:"image"`
			Command     []string `yaml:"command"`
			Volumes     []string `yaml:"volumes"`
			ReadOnly    bool     `yaml:"read_only"`
			CapDrop     []string `yaml:"cap_drop"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	svc, ok := compose.Services["coldstart"]
	if !ok {
		t.Fatalf("no coldstart service: %+v", compose.Services)
	}
	if len(svc.Command) == 0 || svc.Command[0] != "serve" {
		t.Fatalf("command = %q", svc.Command)
	}
	m := &Main{}
	if err := m.ParseFlags(svc.Command[1:], io.Discard); err != nil {
		t.Fatalf("command flags: %v", err)
	}
	if m.BackupEvery == 0 || !strings.HasPrefix(m.BackupDir, "/data/") {
		t.Errorf("backups are not scheduled into the volume: every %s into %q", m.BackupEvery, m.BackupDir)
	}
	if !slices.Contains(svc.Volumes, "/var/run/docker.sock:/var/run/docker.sock") || !slices.Contains(svc.Volumes, "coldstart-data:/data") {
		t.Errorf("volumes = %q", svc.Volumes)
	}
	if _, ok := compose.Volumes["coldstart-data"]; !ok {
		t.Error("the coldstart-data volume is not declared")
	}
	if !svc.ReadOnly || !slices.Contains(svc.CapDrop, "ALL") {
		t.Errorf("read_only %v, cap_drop %q", svc.ReadOnly, svc.CapDrop)
	}
	if !slices.Equal(svc.Healthcheck.Test, []string{"CMD", "/usr/local/bin/coldstart", "healthcheck"}) {
		t.Errorf("healthcheck = %q", svc.Healthcheck.Test)
	}
}

// names records the names of the metrics registered through it.
type names map[string]bool

func (n names) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := re.FindStringSubmatch(d.String()); m != nil {
			n[m[1]] = true
		}
	}
	return nil
}
func (n names) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = n.Register(c)
	}
}
func (n names) Unregister(prometheus.Collector) bool { return false }

// The alert rules parse, and every coldstart metric they use is one the
// server exports.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				For    string            `yaml:"for"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}

	exported := names{}
	grading.New(nil, nil, nil, grading.NewHub(), grading.Options{Registerer: exported})
	newLabMetrics(exported)
	newContainerMetrics(exported)
	exported.MustRegister(engineUpGauge(func(context.Context) error { return nil }))
	// The web server's own metrics, as a scrape shows them.
	base, _ := startServer(t, &Main{Grader: &slowGrader{}, MetricsToken: "scrape-secret"})
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the token: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 2 && f[0] == "#" && f[1] == "TYPE" {
			exported[f[2]] = true
		}
	}
	resp.Body.Close()

	used := regexp.MustCompile(`\bcoldstart_[a-z_]+`)
	want := []string{"ColdstartQueueStuck", "ColdstartGradingErrorRatio", "ColdstartContainerEngineUnreachable"}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Expr == "" || r.Labels["severity"] == "" {
				t.Errorf("%s: needs an expr and a severity", r.Alert)
			}
			for _, name := range used.FindAllString(r.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
				if !exported[name] && !exported[base] {
					t.Errorf("%s uses %s, which the server does not export", r.Alert, name)
				}
			}
		}
	}
	for _, w := range want {
		if !slices.Contains(alerts, w) {
			t.Errorf("no %s alert (have %v)", w, alerts)
		}
	}
}

package cloudrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"coldstart/grader"
)

// YAML paths of the settings the checks point at.
const (
	pathConcurrency = "spec.template.spec.containerConcurrency"
	pathTimeout     = "spec.template.spec.timeoutSeconds"
	pathAnnotations = "spec.template.metadata.annotations"
	pathContainers  = "spec.template.spec.containers"
)

func annotationPath(base, key string) string { return fmt.Sprintf("%s[%q]", base, key) }

// Service is what the exercise reads from a Knative-style Cloud Run service.
// A setting the submission leaves out has its Set flag false and its
// platform default as value.
type Service struct {
	Name string

	Concurrency    int64 // 0 or absent means 80
	ConcurrencySet bool
	MinScale       int64
	MinScaleSet    bool
	MaxScale       int64
	MaxScaleSet    bool
	CPU            float64 // vCPU
	CPUText        string
	CPUSet         bool
	MemoryBytes    int64
	MemoryText     string
	MemorySet      bool
	TimeoutSeconds int64
	TimeoutSet     bool
	Port           int64 // containerPort, 8080 when absent

	// ServiceMinScale and ServiceMaxScale are the service-wide
	// run.googleapis.com/minScale and maxScale; MinScale and MaxScale
	// above are what the one revision gets once both levels apply.
	ServiceMinScale int64
	ServiceMinSet   bool
	ServiceMaxScale int64
	ServiceMaxSet   bool

	// ExecEnv is run.googleapis.com/execution-environment ("" when Cloud
	// Run chooses); CPUThrottling is run.googleapis.com/cpu-throttling
	// ("" when absent).
	ExecEnv       string
	CPUThrottling string
	// Annotations counts the annotations in Cloud Run's namespaces, at both levels.
	Annotations int

	// ServiceScale lists the revision's scaling annotations found in the
	// service's own metadata (not the template), by key.
	ServiceScale map[string]bool

	// RevisionName is spec.template.metadata.name: the name of the revision
	// the template creates ("" when Cloud Run is to choose it).
	RevisionName string
	// Traffic is spec.traffic, entry by entry.
	Traffic []TrafficTarget

	// Lines maps a YAML path to the line it is on, for messages.
	Lines map[string]int

	problems []problem
}

// reservedEnv are the environment variables of Cloud Run's container
// runtime contract, which a service cannot set ("The environment variables
// defined in the container runtime contract are reserved and cannot be
// set", Configure environment variables; facts: Cloud Run).
var reservedEnv = []string{"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"}

var serviceNameRE = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Defaults of Cloud Run [facts: Cloud Run].
const (
	defaultConcurrency = 80
	maxConcurrency     = 1000
	defaultMaxScale    = 100
	defaultCPU         = 1.0
	defaultMemory      = 512 << 20
	defaultTimeout     = 300
	maxTimeout         = 3600
	defaultPort        = 8080
)

// EffectiveConcurrency is the concurrency the platform would use: 0 or
// absent means 80 when the CPU is at least 1 and 1 below ("If not specified
// or 0, defaults to 80 when requested CPU >= 1 and defaults to 1 when
// requested CPU < 1", Cloud Run Admin API v1, RevisionSpec).
func (s *Service) EffectiveConcurrency() int64 {
	switch {
	case s.Concurrency != 0:
		return s.Concurrency
	case s.CPU < 1:
		return 1
	}
	return defaultConcurrency
}

// applyServiceScale folds the service-wide minimum and maximum into the
// revision's: the service-wide minimum is shared among the revisions that
// take traffic (Cloud Run Admin API v2, ServiceScaling.min_instance_count),
// and here one revision takes it all.
func (s *Service) applyServiceScale() {
	if s.ServiceMinSet && s.ServiceMinScale > s.MinScale {
		s.MinScale = s.ServiceMinScale
	}
	if s.ServiceMaxSet && (!s.MaxScaleSet || s.ServiceMaxScale < s.MaxScale) {
		s.MaxScale = s.ServiceMaxScale
	}
}

// problem is one thing wrong with the submission, for the check named by
// check.
type problem struct {
	check string
	path  string
	line  int
	msg   string
}

// tabIndented returns the first line (1-based) whose indentation holds a
// tab, or 0.
func tabIndented(body []byte) int {
	for i, line := range bytes.Split(body, []byte("\n")) {
		indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			return i + 1
		}
	}
	return 0
}

func (p problem) String() string {
	if p.line > 0 {
		return fmt.Sprintf("line %d: %s", p.line, p.msg)
	}
	return p.msg
}

// ParseService reads a service YAML strictly. A body that is not YAML at all
// gives an *grader.InputError; anything else wrong (unknown fields, wrong
// types, values out of range) is recorded as a problem for the static checks.
func ParseService(body []byte) (*Service, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &grader.InputError{Message: "the submission is empty: paste the service YAML"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(body))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		// The YAML reader's words for a tab ("found character that cannot
		// start any token") say nothing to a student; the editor's do.
		if line := tabIndented(body); line > 0 {
			return nil, &grader.InputError{Line: line, Column: 1, Message: "YAML does not allow tabs for indentation; indent with spaces"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &grader.InputError{Line: extra.Line, Column: 1, Message: "the submission holds more than one YAML document; give only the service"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &grader.InputError{Message: "the submission is empty: paste the service YAML"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &grader.InputError{Line: root.Line, Column: root.Column,
			Message: fmt.Sprintf("the service must be a YAML mapping (apiVersion, kind, metadata, spec), not %s", describe(root))}
	}
	s := &Service{MaxScale: defaultMaxScale, CPU: defaultCPU, MemoryBytes: defaultMemory, TimeoutSeconds: defaultTimeout,
		Port: defaultPort, ServiceScale: map[string]bool{}, Lines: map[string]int{}}
	p := &parser{svc: s}
	p.service(root)
	s.applyServiceScale()
	return s, nil
}

func (p *parser) service(root *yaml.Node) {
	top := p.object(root, "")
	if v := top.get("apiVersion"); v == nil {
		p.add("cloudrun.service", "apiVersion", root, "apiVersion is missing: a Cloud Run service YAML says apiVersion: serving.knative.dev/v1")
	} else if s, ok := p.str(v, "apiVersion", "cloudrun.service"); ok && s != "serving.knative.dev/v1" {
		p.add("cloudrun.service", "apiVersion", v, "apiVersion is %q; a Cloud Run service YAML says serving.knative.dev/v1", grader.Clip(s))
	}
	if v := top.get("kind"); v == nil {
		p.add("cloudrun.service", "kind", root, "kind is missing: it must be Service")
	} else if s, ok := p.str(v, "kind", "cloudrun.service"); ok && s != "Service" {
		p.add("cloudrun.service", "kind", v, "kind is %q; it must be Service", grader.Clip(s))
	}
	meta := p.object(top.get("metadata"), "metadata")
	if meta.node == nil {
		p.add("cloudrun.service", "metadata", root, "metadata is missing: the service needs metadata.name")
	}
	if v := meta.get("name"); v != nil {
		if s, ok := p.str(v, "metadata.name", "cloudrun.service"); ok {
			p.svc.Name = s
			if s == "" {
				p.add("cloudrun.service", "metadata.name", v, "metadata.name is empty")
			} else if !serviceNameRE.MatchString(s) {
				// Cloud Run's own error for metadata.name, as quoted in
				// jamesward/cloud-run-button#4.
				p.add("cloudrun.service", "metadata.name", v, "metadata.name %q: Service name must use only letters, numbers and '-'. Must begin with a letter and cannot end with a '-'. Maximum length is 63 characters.", grader.Clip(s))
			}
		}
	} else if meta.node != nil {
		p.add("cloudrun.service", "metadata.name", meta.node, "metadata.name is missing: the service needs a name")
	}
	meta.get("namespace")
	p.stringMap(meta.get("labels"), "metadata.labels")
	p.serviceAnnotations(meta.get("annotations"))
	meta.done()

	specNode := top.get("spec")
	if specNode == nil {
		p.add("cloudrun.service", "spec", root, "spec is missing: the service needs spec.template")
	}
	spec := p.object(specNode, "spec")
	tmplNode := spec.get("template")
	if specNode != nil && tmplNode == nil {
		p.add("cloudrun.service", "spec.template", specNode, "spec.template is missing: it describes the revision to run")
	}
	tmpl := p.object(tmplNode, "spec.template")
	tmeta := p.object(tmpl.get("metadata"), "spec.template.metadata")
	if v := tmeta.get("name"); v != nil {
		if name, ok := p.str(v, "spec.template.metadata.name", "cloudrun.revisions"); ok {
			p.svc.RevisionName = name
		}
	}
	p.stringMap(tmeta.get("labels"), "spec.template.metadata.labels")
	p.templateAnnotations(tmeta.get("annotations"))
	tmeta.done()

	rsNode := tmpl.get("spec")
	if tmplNode != nil && rsNode == nil {
		p.add("cloudrun.service", "spec.template.spec", tmplNode, "spec.template.spec is missing: it holds the containers")
	}
	rs := p.object(rsNode, "spec.template.spec")
	if v := rs.get("containerConcurrency"); v != nil {
		if n, ok := p.integer(v, pathConcurrency, "cloudrun.concurrency"); ok {
			p.svc.Concurrency, p.svc.ConcurrencySet = n, true
		}
	}
	if v := rs.get("timeoutSeconds"); v != nil {
		if n, ok := p.integer(v, pathTimeout, "cloudrun.timeout"); ok {
			p.svc.TimeoutSeconds, p.svc.TimeoutSet = n, true
		}
	}
	if v := rs.get("serviceAccountName"); v != nil {
		p.str(v, "spec.template.spec.serviceAccountName", "cloudrun.schema")
	}
	p.containers(rs.get("containers"), rsNode)
	// The rest of RevisionSpec (Admin API v1), not judged here; two of its
	// fields the reference marks "Not supported by Cloud Run".
	for _, k := range []string{"volumes", "runtimeClassName", "nodeSelector"} {
		rs.get(k)
	}
	for _, k := range []string{"enableServiceLinks", "imagePullSecrets"} {
		if v := rs.get(k); v != nil {
			p.add("cloudrun.schema", "spec.template.spec."+k, v, "spec.template.spec.%s is in the v1 schema, but its reference says: Not supported by Cloud Run", k)
		}
	}
	rs.done()
	tmpl.done()
	p.traffic(spec.get("traffic"))
	spec.done()
	if v := top.get("status"); v != nil {
		p.add("cloudrun.schema", "status", v, "status is what Cloud Run reports about a deployed service (ServiceStatus); it is not part of the service you submit, so leave it out")
	}
	top.done()
}

func (p *parser) containers(n, parent *yaml.Node) {
	if n == nil {
		if parent != nil {
			p.add("cloudrun.service", pathContainers, parent, "%s is missing: the revision needs one container", pathContainers)
		}
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add("cloudrun.schema", pathContainers, n, "%s must be a list of containers, not %s", pathContainers, describe(n))
		return
	}
	switch len(n.Content) {
	case 0:
		p.add("cloudrun.service", pathContainers, n, "%s is empty: the revision needs one container", pathContainers)
		return
	case 1:
	default:
		p.add("cloudrun.service", pathContainers, n.Content[1], "%s lists %d containers; this exercise's service runs one (Cloud Run also takes sidecars, but the trial plays a single container)", pathContainers, len(n.Content))
	}
	base := pathContainers + "[0]"
	c := p.object(n.Content[0], base)
	c.get("name")
	if v := c.get("image"); v == nil {
		p.add("cloudrun.service", base+".image", n.Content[0], "%s.image is missing: which image should the revision run?", base)
	} else if s, ok := p.str(v, base+".image", "cloudrun.service"); ok && strings.TrimSpace(s) == "" {
		p.add("cloudrun.service", base+".image", v, "%s.image is empty", base)
	}
	p.stringList(c.get("command"), base+".command")
	p.stringList(c.get("args"), base+".args")
	if v := c.get("env"); v != nil {
		if v.Kind != yaml.SequenceNode {
			p.add("cloudrun.schema", base+".env", v, "%s.env must be a list of {name, value}, not %s", base, describe(v))
		} else {
			for i, e := range v.Content {
				path := fmt.Sprintf("%s.env[%d]", base, i)
				eo := p.object(e, path)
				if nv := eo.get("name"); nv == nil {
					p.add("cloudrun.schema", path, e, "%s needs a name", path)
				} else if name, ok := p.str(nv, path+".name", "cloudrun.schema"); ok && slices.Contains(reservedEnv, name) {
					p.add("cloudrun.contract", path+".name", nv, "%s is set by Cloud Run itself (the container runtime contract), and its reserved names cannot be set in a service", name)
				}
				if vv := eo.get("value"); vv != nil {
					p.str(vv, path+".value", "cloudrun.schema")
				}
				eo.get("valueFrom") // a secret reference (secretKeyRef)
				eo.done()
			}
		}
	}
	if v := c.get("ports"); v != nil {
		if v.Kind != yaml.SequenceNode {
			p.add("cloudrun.schema", base+".ports", v, "%s.ports must be a list, not %s", base, describe(v))
		} else {
			if len(v.Content) > 1 {
				p.add("cloudrun.contract", base+".ports", v.Content[1], "%s.ports lists %d ports; Cloud Run takes only one port per container", base, len(v.Content))
			}
			for i, e := range v.Content {
				path := fmt.Sprintf("%s.ports[%d]", base, i)
				po := p.object(e, path)
				if nv := po.get("name"); nv != nil {
					// "If specified, used to specify which protocol to use.
					// Allowed values are http1 and h2c" (ContainerPort).
					if name, ok := p.str(nv, path+".name", "cloudrun.contract"); ok && name != "http1" && name != "h2c" {
						p.add("cloudrun.contract", path+".name", nv, "%s.name is %q; Cloud Run reads it as the protocol, http1 or h2c", path, grader.Clip(name))
					}
				}
				if pv := po.get("containerPort"); pv != nil {
					if port, ok := p.integer(pv, path+".containerPort", "cloudrun.contract"); ok {
						if port < 1 || port > 65535 {
							p.add("cloudrun.contract", path+".containerPort", pv, "%s.containerPort is %d; a TCP port is 1–65535", path, port)
						} else if i == 0 {
							p.svc.Port = port
						}
					}
				}
				po.done()
			}
		}
	}
	// The rest of Container (Admin API v1), read but not judged.
	for _, k := range []string{"workingDir", "envFrom", "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe",
		"securityContext", "imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy"} {
		c.get(k)
	}
	res := p.object(c.get("resources"), base+".resources")
	res.get("requests")
	lim := p.object(res.get("limits"), base+".resources.limits")
	lim.get("nvidia.com/gpu")
	if v := lim.get("cpu"); v != nil {
		path := base + ".resources.limits.cpu"
		if q, text, ok := p.quantity(v, path, "cloudrun.resources"); ok {
			p.svc.CPU, p.svc.CPUText, p.svc.CPUSet = q, text, true
		}
	}
	if v := lim.get("memory"); v != nil {
		path := base + ".resources.limits.memory"
		if q, text, ok := p.quantity(v, path, "cloudrun.resources"); ok {
			switch {
			case q < 1:
				p.add("cloudrun.resources", path, v, "memory %s is less than one byte; write it with a binary suffix, such as 512Mi or 1Gi", text)
			case q > 1<<50:
				p.add("cloudrun.resources", path, v, "memory %s is more than Cloud Run's maximum of 32Gi", text)
			default:
				p.svc.MemoryBytes, p.svc.MemoryText, p.svc.MemorySet = int64(q), text, true
			}
		}
	}
	lim.done()
	res.done()
	c.done()
}

// traffic reads spec.traffic entry by entry; the rules between entries
// (the sum, the names, the tags) are judged in judgeTraffic.
func (p *parser) traffic(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add("cloudrun.traffic", "spec.traffic", n, "spec.traffic must be a list of traffic targets, not %s", describe(n))
		return
	}
	for i, e := range n.Content {
		path := fmt.Sprintf("spec.traffic[%d]", i)
		t := TrafficTarget{Path: path}
		o := p.object(e, path)
		if v := o.get("percent"); v != nil {
			// "Percent specifies percent of the traffic"; an int64 in the API,
			// 0–100 (route_validation.go: validateTrafficPercentage).
			if pc, ok := p.integer(v, path+".percent", "cloudrun.traffic"); !ok {
				t.percentBad = true
			} else if pc < 0 || pc > 100 {
				p.add("cloudrun.traffic", path+".percent", v, "%s.percent is %d; a share of traffic is a whole percent from 0 to 100", path, pc)
				t.percentBad = true
			} else {
				t.Percent, t.PercentSet = pc, true
			}
		}
		if v := o.get("latestRevision"); v != nil {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.add("cloudrun.traffic", path+".latestRevision", v, "%s.latestRevision must be true or false, not %s", path, describe(v))
			} else {
				t.Latest, t.LatestSet = v.Value == "true", true
			}
		}
		if v := o.get("revisionName"); v != nil {
			if name, ok := p.str(v, path+".revisionName", "cloudrun.traffic"); ok && name != "" {
				t.RevisionName, t.RevisionSet = name, true
			}
		}
		if v := o.get("tag"); v != nil {
			if tag, ok := p.str(v, path+".tag", "cloudrun.tags"); ok && tag != "" {
				t.Tag, t.TagSet = tag, true
			}
		}
		// configurationName: "Not supported in Cloud Run. It must be empty";
		// url: "Output only … disallowed on spec" (Admin API v1, TrafficTarget).
		if v := o.get("configurationName"); v != nil && !(v.Kind == yaml.ScalarNode && v.Value == "") {
			p.add("cloudrun.traffic", path+".configurationName", v, "%s.configurationName is not supported by Cloud Run and must be left out: name a revision with revisionName, or follow the latest one with latestRevision: true", path)
		}
		if v := o.get("url"); v != nil {
			p.add("cloudrun.traffic", path+".url", v, "%s.url is output only: Cloud Run reports a tag's URL in the service's status, and refuses it in spec", path)
		}
		o.done()
		p.svc.Traffic = append(p.svc.Traffic, t)
	}
}

// scale reads a minScale or maxScale value: a whole number, written as a
// string (as annotations are) or as a number.
func (p *parser) scale(v *yaml.Node, path, check string) (int64, bool) {
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!int") {
		p.add(check, path, v, "%s must be a whole number such as \"2\", not %s", path, describe(v))
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.Value), 10, 64)
	if err != nil {
		p.add(check, path, v, "%s must be a whole number such as \"2\", not %q", path, grader.Clip(v.Value))
		return 0, false
	}
	if n < 0 {
		p.add(check, path, v, "%s is %d; a number of instances cannot be negative", path, n)
		return 0, false
	}
	return n, true
}

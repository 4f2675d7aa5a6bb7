package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"coldstart/grader"
)

// Problem is one thing wrong with the shape of a submission: an unknown
// field or a value of the wrong type. ECS refuses such input before it looks
// at anything else.
type Problem struct {
	Field   string // JSON Pointer
	Message string
}

type shapeKind int

const (
	sAny shapeKind = iota
	sString
	sInt
	sBool
	sObject
	sArray
	sStringMap
)

type shape struct {
	kind   shapeKind
	fields map[string]*shape
	elem   *shape
}

var (
	anyShape    = &shape{kind: sAny}
	strShape    = &shape{kind: sString}
	intShape    = &shape{kind: sInt}
	boolShape   = &shape{kind: sBool}
	strMapShape = &shape{kind: sStringMap}
	strList     = list(strShape)
)

func obj(fields map[string]*shape) *shape { return &shape{kind: sObject, fields: fields} }
func list(elem *shape) *shape             { return &shape{kind: sArray, elem: elem} }

// The RegisterTaskDefinition input. Every field ECS knows is listed, so a
// misspelt one is reported; the ones the grader does not judge accept any
// JSON value.
var taskDefinitionShape = obj(map[string]*shape{
	"family":                  strShape,
	"taskRoleArn":             strShape,
	"executionRoleArn":        strShape,
	"networkMode":             strShape,
	"containerDefinitions":    list(containerShape),
	"volumes":                 list(volumeShape),
	"placementConstraints":    anyShape,
	"requiresCompatibilities": strList,
	"cpu":                     strShape,
	"memory":                  strShape,
	"tags":                    anyShape,
	"pidMode":                 strShape,
	"ipcMode":                 strShape,
	"proxyConfiguration":      anyShape,
	"inferenceAccelerators":   anyShape,
	"ephemeralStorage":        obj(map[string]*shape{"sizeInGiB": intShape}),
	"runtimePlatform":         obj(map[string]*shape{"cpuArchitecture": strShape, "operatingSystemFamily": strShape}),
	"enableFaultInjection":    boolShape,
})

var containerShape = obj(map[string]*shape{
	"name":                   strShape,
	"image":                  strShape,
	"repositoryCredentials":  anyShape,
	"cpu":                    intShape,
	"memory":                 intShape,
	"memoryReservation":      intShape,
	"links":                  strList,
	"portMappings":           list(portMappingShape),
	"essential":              boolShape,
	"restartPolicy":          anyShape,
	"entryPoint":             strList,
	"command":                strList,
	"environment":            list(obj(map[string]*shape{"name": strShape, "value": strShape})),
	"environmentFiles":       anyShape,
	"mountPoints":            list(obj(map[string]*shape{"sourceVolume": strShape, "containerPath": strShape, "readOnly": boolShape})),
	"volumesFrom":            list(obj(map[string]*shape{"sourceContainer": strShape, "readOnly": boolShape})),
	"linuxParameters":        linuxParametersShape,
	"secrets":                list(obj(map[string]*shape{"name": strShape, "valueFrom": strShape})),
	"dependsOn":              list(obj(map[string]*shape{"containerName": strShape, "condition": strShape})),
	"startTimeout":           intShape,
	"stopTimeout":            intShape,
	"versionConsistency":     strShape,
	"hostname":               strShape,
	"user":                   strShape,
	"workingDirectory":       strShape,
	"disableNetworking":      boolShape,
	"privileged":             boolShape,
	"readonlyRootFilesystem": boolShape,
	"dnsServers":             strList,
	"dnsSearchDomains":       strList,
	"extraHosts":             anyShape,
	"dockerSecurityOptions":  strList,
	"interactive":            boolShape,
	"pseudoTerminal":         boolShape,
	"dockerLabels":           strMapShape,
	"ulimits":                anyShape,
	"logConfiguration":       obj(map[string]*shape{"logDriver": strShape, "options": strMapShape, "secretOptions": anyShape}),
	"healthCheck":            healthCheckShape,
	"systemControls":         anyShape,
	"resourceRequirements":   anyShape,
	"firelensConfiguration":  anyShape,
	"credentialSpecs":        strList,
})

// volumeShape is the API's Volume: a name and one kind of volume.
var volumeShape = obj(map[string]*shape{
	"name":                       strShape,
	"configuredAtLaunch":         boolShape,
	"host":                       obj(map[string]*shape{"sourcePath": strShape}),
	"dockerVolumeConfiguration":  anyShape,
	"efsVolumeConfiguration":     anyShape,
	"s3filesVolumeConfiguration": anyShape,
	"fsxWindowsFileServerVolumeConfiguration": anyShape,
})

var portMappingShape = obj(map[string]*shape{
	"containerPort":      intShape,
	"hostPort":           intShape,
	"protocol":           strShape,
	"name":               strShape,
	"appProtocol":        strShape,
	"containerPortRange": strShape,
})

var linuxParametersShape = obj(map[string]*shape{
	"capabilities":       anyShape,
	"devices":            list(anyShape),
	"initProcessEnabled": boolShape,
	"sharedMemorySize":   intShape,
	"tmpfs":              anyShape,
	"maxSwap":            intShape,
	"swappiness":         intShape,
})

var healthCheckShape = obj(map[string]*shape{
	"command":     strList,
	"interval":    intShape,
	"timeout":     intShape,
	"retries":     intShape,
	"startPeriod": intShape,
})

// Parse reads a task definition strictly. Malformed JSON, or JSON that is
// not an object, is an *grader.InputError (the submission cannot be judged
// at all); unknown fields and wrong types are Problems, and the offending
// values are left out of the returned TaskDefinition.
func Parse(body []byte) (*TaskDefinition, []Problem, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, nil, &grader.InputError{Line: 1, Column: 1, Message: "the submission is empty: a task definition is one JSON object"}
		case errors.Is(err, io.ErrUnexpectedEOF):
			line, col := grader.LineColumn(body, int64(len(body)))
			return nil, nil, &grader.InputError{Line: line, Column: col, Message: "malformed JSON: the text ends before the JSON is complete (a missing } or ]?)"}
		}
		return nil, nil, grader.JSONError(body, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		line, col := grader.LineColumn(body, off)
		return nil, nil, &grader.InputError{Line: line, Column: col, Message: "malformed JSON: more than one value; a task definition is one JSON object"}
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, nil, &grader.InputError{Message: fmt.Sprintf("a task definition is a JSON object ({ … }), not %s", describe(raw))}
	}
	var probs []Problem
	clean := walk(raw, taskDefinitionShape, "", &probs)
	b, err := json.Marshal(clean)
	if err != nil {
		return nil, nil, fmt.Errorf("re-encode task definition: %w", err)
	}
	var td TaskDefinition
	if err := json.Unmarshal(b, &td); err != nil {
		return nil, nil, fmt.Errorf("decode task definition: %w", err)
	}
	return &td, probs, nil
}

// walk checks v against sh and returns v without the values that do not fit.
func walk(v any, sh *shape, ptr string, probs *[]Problem) any {
	bad := func(want string) any {
		*probs = append(*probs, Problem{Field: ptrOrRoot(ptr), Message: fmt.Sprintf("%s must be %s, not %s", name(ptr), want, describe(v))})
		return nil
	}
	if v == nil {
		// null is what an absent field is.
		return nil
	}
	switch sh.kind {
	case sAny:
		return v
	case sString:
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
		return v
	case sBool:
		if _, ok := v.(bool); !ok {
			return bad("true or false")
		}
		return v
	case sInt:
		n, ok := v.(json.Number)
		if !ok {
			return bad("a whole number")
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) {
			return bad("a whole number")
		}
		if f > math.MaxInt32 || f < math.MinInt32 {
			*probs = append(*probs, Problem{Field: ptrOrRoot(ptr), Message: fmt.Sprintf("%s is %s, which is far beyond any value ECS accepts", name(ptr), grader.Clip(n.String()))})
			return nil
		}
		return json.Number(fmt.Sprint(int64(f)))
	case sStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("an object of strings")
		}
		out := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out[k] = walk(m[k], strShape, ptr+"/"+escape(k), probs)
		}
		return out
	case sArray:
		a, ok := v.([]any)
		if !ok {
			return bad("a list")
		}
		out := make([]any, 0, len(a))
		for i, e := range a {
			out = append(out, walk(e, sh.elem, fmt.Sprintf("%s/%d", ptr, i), probs))
		}
		return out
	case sObject:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		out := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fs, known := sh.fields[k]
			if !known {
				msg := fmt.Sprintf("unknown field %q", k)
				if s := grader.Suggest(k, slices.Sorted(maps.Keys(sh.fields))); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				*probs = append(*probs, Problem{Field: ptr + "/" + escape(k), Message: msg})
				continue
			}
			out[k] = walk(m[k], fs, ptr+"/"+escape(k), probs)
		}
		return out
	}
	return nil
}

func escape(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

func ptrOrRoot(p string) string { return p }

func name(ptr string) string {
	if ptr == "" {
		return "the task definition"
	}
	return ptr
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", grader.Clip(x))
	case bool:
		return fmt.Sprintf("%v", x)
	case json.Number:
		return "the number " + grader.Clip(x.String())
	case float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

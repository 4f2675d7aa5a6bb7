package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// parseConditions reads a Condition block: an object of operators, each an
// object of condition keys, each a value or a list of values (IAM User
// Guide, "IAM JSON policy elements: Condition"). Values may be JSON strings,
// numbers or booleans; they are compared as text. An operator the grader
// does not know is kept: it is reported as not evaluated when a request
// meets it, rather than guessed at.
func parseConditions(raw json.RawMessage, ptr string) ([]Condition, error) {
	var block map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &block) != nil {
		return nil, errorf(ptr, "Condition must be an object of operators, e.g. {\"StringEquals\": {…}}")
	}
	var out []Condition
	for _, op := range slices.Sorted(maps.Keys(block)) {
		opPtr := ptr + "/" + escape(op)
		var keys map[string]json.RawMessage
		if firstByte(block[op]) != '{' || json.Unmarshal(block[op], &keys) != nil {
			return nil, errorf(opPtr, "the condition operator %s must map condition keys to values", op)
		}
		if len(keys) == 0 {
			return nil, errorf(opPtr, "the condition operator %s names no condition key", op)
		}
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			keyPtr := opPtr + "/" + escape(key)
			if key == "" {
				return nil, errorf(keyPtr, "a condition key must not be empty")
			}
			values, err := conditionValues(keys[key], keyPtr)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: op, Key: key, Values: values, Pointer: keyPtr})
		}
	}
	return out, nil
}

func conditionValues(raw json.RawMessage, ptr string) ([]string, error) {
	scalar := func(r json.RawMessage, p string) (string, error) {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return "", errorf(p, "a condition value must be a string, a number or true/false")
		}
		switch x := v.(type) {
		case string:
			return x, nil
		case bool:
			return strconv.FormatBool(x), nil
		case float64:
			return string(r), nil
		}
		return "", errorf(p, "a condition value must be a string, a number or true/false, not %s", short(r))
	}
	if firstByte(raw) != '[' {
		v, err := scalar(raw, ptr)
		if err != nil {
			return nil, err
		}
		return []string{v}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errorf(ptr, "condition values must be a value or a list of values")
	}
	if len(items) == 0 {
		return nil, errorf(ptr, "the condition key has an empty list of values")
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		v, err := scalar(it, ptr+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// checkSid applies the Sid rule (IAM User Guide, "IAM JSON policy elements:
// Sid"): ASCII letters and digits only. Uniqueness is checked by the
// document.
func checkSid(sid string) string {
	for _, r := range sid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Sprintf("Sid %s: a Sid holds only ASCII letters (A-Z, a-z) and digits (0-9)", quote(sid))
		}
	}
	return ""
}

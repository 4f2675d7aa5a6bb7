package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
)

// jsonOp is one operation of a JSON-protocol service: it gets the caller
// and the request body, and returns the status and answer.
type jsonOp func(sess *session, body []byte) (int, any)

type jsonErr struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func accessDenied(msg string) (int, any) {
	return http.StatusBadRequest, jsonErr{"AccessDeniedException", msg}
}

func (s *Server) jsonService(w http.ResponseWriter, r *http.Request, prefix string, ops map[string]jsonOp) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "JSON services take POST")
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), prefix)
	op := ops[name]
	if !ok || op == nil {
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+r.Header.Get("X-Amz-Target"))
		return
	}
	sess, aerr := s.authenticate(r, body)
	if aerr != nil {
		writeJSONError(w, http.StatusBadRequest, aerr.jsonCode, aerr.message)
		return
	}
	status, out := op(sess, body)
	if e, ok := out.(jsonErr); ok {
		writeJSONError(w, status, e.Type, e.Message)
		return
	}
	writeJSON(w, status, out)
}

func decode(body []byte, v any) (int, any, bool) {
	if err := json.Unmarshal(body, v); err != nil {
		return http.StatusBadRequest, jsonErr{"SerializationException", "the request body is not valid JSON"}, false
	}
	return 0, nil, true
}

func (s *Server) secretsOps() map[string]jsonOp {
	return map[string]jsonOp{
		"GetSecretValue": func(sess *session, body []byte) (int, any) {
			var in struct {
				SecretID string `json:"SecretId"`
			}
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			arn, value, found := s.findSecret(in.SecretID)
			if msg := s.authorize(sess, "secretsmanager:GetSecretValue", arn); msg != "" {
				return accessDenied(msg)
			}
			if !found {
				return http.StatusBadRequest, jsonErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
			}
			name := strings.SplitN(arn, ":secret:", 2)[1]
			if i := strings.LastIndex(name, "-"); i > 0 {
				name = name[:i]
			}
			return http.StatusOK, map[string]any{"ARN": arn, "Name": name, "SecretString": value,
				"VersionId": "00000000-0000-0000-0000-000000000001", "VersionStages": []string{"AWSCURRENT"}}
		},
	}
}

// findSecret resolves a SecretId (an ARN, or a name without the six random
// characters AWS appends) to the secret's ARN.
func (s *Server) findSecret(id string) (arn, value string, found bool) {
	if v, ok := s.cfg.Secrets[id]; ok {
		return id, v, true
	}
	keys := make([]string, 0, len(s.cfg.Secrets))
	for k := range s.cfg.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_, name, _ := strings.Cut(k, ":secret:")
		if i := strings.LastIndex(name, "-"); i > 0 && name[:i] == id {
			return k, s.cfg.Secrets[k], true
		}
	}
	if strings.HasPrefix(id, "arn:") {
		return id, "", false
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", s.cfg.Region, s.cfg.Account, id), "", false
}

func (s *Server) logsOps() map[string]jsonOp {
	type target struct {
		Group     string `json:"logGroupName"`
		Stream    string `json:"logStreamName"`
		LogEvents []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	groupKnown := func(g string) bool {
		for _, lg := range s.cfg.LogGroups {
			if lg == g {
				return true
			}
		}
		return false
	}
	return map[string]jsonOp{
		"CreateLogStream": func(sess *session, body []byte) (int, any) {
			var in target
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			if msg := s.authorize(sess, "logs:CreateLogStream", s.cfg.LogStreamARN(in.Group, in.Stream)); msg != "" {
				return accessDenied(msg)
			}
			if !groupKnown(in.Group) {
				return http.StatusBadRequest, jsonErr{"ResourceNotFoundException", "The specified log group does not exist."}
			}
			key := in.Group + "\x00" + in.Stream
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, ok := s.streams[key]; ok {
				return http.StatusBadRequest, jsonErr{"ResourceAlreadyExistsException", "The specified log stream already exists"}
			}
			s.streams[key] = []string{}
			return http.StatusOK, map[string]any{}
		},
		"PutLogEvents": func(sess *session, body []byte) (int, any) {
			var in target
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			if msg := s.authorize(sess, "logs:PutLogEvents", s.cfg.LogStreamARN(in.Group, in.Stream)); msg != "" {
				return accessDenied(msg)
			}
			key := in.Group + "\x00" + in.Stream
			s.mu.Lock()
			defer s.mu.Unlock()
			events, ok := s.streams[key]
			if !ok {
				return http.StatusBadRequest, jsonErr{"ResourceNotFoundException", "The specified log stream does not exist."}
			}
			for _, e := range in.LogEvents {
				events = append(events, e.Message)
			}
			s.streams[key] = events
			return http.StatusOK, map[string]any{"nextSequenceToken": fmt.Sprintf("%056d", len(events))}
		},
	}
}

// authorizeLocked is a silent authorisation check for use under s.mu.
func (s *Server) authorizeLocked(sess *session, action, resource string) bool {
	if sess.role.permErr != nil {
		return false
	}
	return policy.Evaluate(policy.Request{Action: action, Resource: resource, Context: s.callContext(sess)}, sess.role.perm).Allowed()
}

package awssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"coldstart/exercises/labs/awssim/policy"
)

// credentialEndpoint serves a role's credentials at /v2/credentials/ID, as
// the ECS agent does at 169.254.170.2 for the task role.
func (s *Server) credentialEndpoint(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/v2/credentials/")
	roleName, ok := s.cfg.Credentials[id]
	if r.Method != http.MethodGet || !ok {
		writeJSONError(w, http.StatusNotFound, "NotFound", "no credentials are served at this URI")
		return
	}
	s.mu.Lock()
	cr, cached := s.creds[id]
	s.mu.Unlock()
	if !cached {
		sess, denied := s.assume(s.cfg.RoleARN(roleName), policy.Principal{Type: "Service", ID: s.cfg.Service}, "task-"+id[:min(8, len(id))])
		if sess == nil {
			writeJSONError(w, http.StatusBadRequest, "AccessDenied", denied)
			return
		}
		cr = sess.creds
		s.mu.Lock()
		s.creds[id] = cr
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(cr)
}

type assumeRoleJSON struct {
	AssumeRoleResponse struct {
		AssumeRoleResult struct {
			Credentials struct {
				AccessKeyID     string `json:"AccessKeyId"`
				SecretAccessKey string `json:"SecretAccessKey"`
				SessionToken    string `json:"SessionToken"`
				Expiration      string `json:"Expiration"`
			} `json:"Credentials"`
			AssumedRoleUser struct {
				Arn string `json:"Arn"`
			} `json:"AssumedRoleUser"`
		} `json:"AssumeRoleResult"`
	} `json:"AssumeRoleResponse"`
}

// sts answers AssumeRole for a service principal (the ECS agent's side of
// starting a task).
func (s *Server) sts(w http.ResponseWriter, r *http.Request) {
	stsError := func(status int, code, msg string) {
		writeJSON(w, status, map[string]any{"Error": map[string]string{"Type": "Sender", "Code": code, "Message": msg}})
	}
	body, err := readBody(r)
	if err != nil {
		stsError(http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") != "AssumeRole" {
		stsError(http.StatusBadRequest, "InvalidAction", "this simulator's STS answers only AssumeRole")
		return
	}
	svc := r.Header.Get(ServicePrincipalHeader)
	if svc == "" {
		stsError(http.StatusForbidden, "AccessDenied", "only a service principal may assume roles in this simulator")
		return
	}
	name := form.Get("RoleSessionName")
	if name == "" {
		name = "session"
	}
	sess, denied := s.assume(form.Get("RoleArn"), policy.Principal{Type: "Service", ID: svc}, name)
	if sess == nil {
		stsError(http.StatusForbidden, "AccessDenied", denied)
		return
	}
	var out assumeRoleJSON
	res := &out.AssumeRoleResponse.AssumeRoleResult
	res.Credentials.AccessKeyID = sess.creds.AccessKeyID
	res.Credentials.SecretAccessKey = sess.creds.SecretAccessKey
	res.Credentials.SessionToken = sess.creds.Token
	res.Credentials.Expiration = sess.creds.Expiration
	res.AssumedRoleUser.Arn = sess.assumedARN(s.cfg.Account)
	writeJSON(w, http.StatusOK, out)
}

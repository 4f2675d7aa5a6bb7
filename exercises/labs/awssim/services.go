package awssim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

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

// image is a one-layer OCI image held by the simulated ECR.
type image struct {
	repo     Repository
	manifest []byte
	blobs    map[string][]byte
	layers   []string // digests of config and layer, in manifest order
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newImage(repo Repository) *image {
	cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/lab"],"User":"65534:65534","Labels":{"repository":%q,"tag":%q}},"rootfs":{"type":"layers","diff_ids":[]}}`, repo.Name, repo.Tag))
	layer := []byte(strings.Repeat(fmt.Sprintf("layer of %s:%s\n", repo.Name, repo.Tag), 128))
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(cfg), "size": len(cfg)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": len(layer)}},
	}
	mb, _ := json.Marshal(m)
	return &image{repo: repo, manifest: mb, layers: []string{digest(cfg), digest(layer)},
		blobs: map[string][]byte{digest(cfg): cfg, digest(layer): layer}}
}

func (s *Server) ecrOps() map[string]jsonOp {
	repoNotFound := func(name string) (int, any) {
		return http.StatusBadRequest, jsonErr{"RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, s.cfg.Account)}
	}
	return map[string]jsonOp{
		"GetAuthorizationToken": func(sess *session, _ []byte) (int, any) {
			if msg := s.authorize(sess, "ecr:GetAuthorizationToken", "*"); msg != "" {
				return accessDenied(msg)
			}
			tok := randomHex(24)
			s.mu.Lock()
			s.tokens[tok] = sess
			s.mu.Unlock()
			return http.StatusOK, map[string]any{"authorizationData": []any{map[string]any{
				"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + tok)),
				"expiresAt":          time.Now().Add(12 * time.Hour).Unix(),
				"proxyEndpoint":      "https://" + s.cfg.Account + ".dkr.ecr." + s.cfg.Region + ".amazonaws.com",
			}}}
		},
		"BatchGetImage": func(sess *session, body []byte) (int, any) {
			var in struct {
				RepositoryName string `json:"repositoryName"`
				ImageIDs       []struct {
					ImageTag string `json:"imageTag"`
				} `json:"imageIds"`
			}
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			if msg := s.authorize(sess, "ecr:BatchGetImage", s.cfg.RepositoryARN(in.RepositoryName)); msg != "" {
				return accessDenied(msg)
			}
			img := s.images[in.RepositoryName]
			if img == nil {
				return repoNotFound(in.RepositoryName)
			}
			var images, failures []any
			for _, id := range in.ImageIDs {
				if id.ImageTag == img.repo.Tag {
					images = append(images, map[string]any{"repositoryName": in.RepositoryName, "imageId": map[string]string{"imageTag": id.ImageTag, "imageDigest": digest(img.manifest)}, "imageManifest": string(img.manifest)})
				} else {
					failures = append(failures, map[string]any{"imageId": map[string]string{"imageTag": id.ImageTag}, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
				}
			}
			return http.StatusOK, map[string]any{"images": images, "failures": failures}
		},
		"GetDownloadUrlForLayer": func(sess *session, body []byte) (int, any) {
			var in struct {
				RepositoryName string `json:"repositoryName"`
				LayerDigest    string `json:"layerDigest"`
			}
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			if msg := s.authorize(sess, "ecr:GetDownloadUrlForLayer", s.cfg.RepositoryARN(in.RepositoryName)); msg != "" {
				return accessDenied(msg)
			}
			img := s.images[in.RepositoryName]
			if img == nil {
				return repoNotFound(in.RepositoryName)
			}
			if _, ok := img.blobs[in.LayerDigest]; !ok {
				return http.StatusBadRequest, jsonErr{"LayersNotFoundException", "The specified layers could not be found"}
			}
			return http.StatusOK, map[string]string{"layerDigest": in.LayerDigest,
				"downloadUrl": "http://" + s.cfg.Account + ".dkr.ecr." + s.cfg.Region + ".amazonaws.com/v2/" + in.RepositoryName + "/blobs/" + in.LayerDigest}
		},
		"BatchCheckLayerAvailability": func(sess *session, body []byte) (int, any) {
			var in struct {
				RepositoryName string   `json:"repositoryName"`
				LayerDigests   []string `json:"layerDigests"`
			}
			if st, e, ok := decode(body, &in); !ok {
				return st, e
			}
			if msg := s.authorize(sess, "ecr:BatchCheckLayerAvailability", s.cfg.RepositoryARN(in.RepositoryName)); msg != "" {
				return accessDenied(msg)
			}
			img := s.images[in.RepositoryName]
			if img == nil {
				return repoNotFound(in.RepositoryName)
			}
			var layers []any
			for _, d := range in.LayerDigests {
				avail := "UNAVAILABLE"
				if _, ok := img.blobs[d]; ok {
					avail = "AVAILABLE"
				}
				layers = append(layers, map[string]any{"layerDigest": d, "layerAvailability": avail, "layerSize": len(img.blobs[d])})
			}
			return http.StatusOK, map[string]any{"layers": layers, "failures": []any{}}
		},
	}
}

// registry is the Docker registry API of ECR: docker pull authenticates
// with the token from GetAuthorizationToken, and ECR authorises each
// request against the policies of the role that got the token.
func (s *Server) registry(w http.ResponseWriter, r *http.Request) {
	regError := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]string{"code": code, "message": msg}}})
	}
	var sess *session
	if basic, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic "); ok {
		if raw, err := base64.StdEncoding.DecodeString(basic); err == nil {
			if tok, ok := strings.CutPrefix(string(raw), "AWS:"); ok {
				s.mu.Lock()
				sess = s.tokens[tok]
				s.mu.Unlock()
			}
		}
	}
	if sess == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.cfg.Account+`.dkr.ecr.`+s.cfg.Region+`.amazonaws.com",service="ecr.amazonaws.com"`)
		regError(http.StatusUnauthorized, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v2/")
	var repo, kind, ref string
	for _, k := range []string{"/manifests/", "/blobs/"} {
		if i := strings.LastIndex(path, k); i > 0 {
			repo, kind, ref = path[:i], strings.Trim(k, "/"), path[i+len(k):]
			break
		}
	}
	if repo == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		regError(http.StatusNotFound, "NAME_UNKNOWN", "unknown registry path")
		return
	}
	action := "ecr:BatchGetImage"
	if kind == "blobs" {
		action = "ecr:GetDownloadUrlForLayer"
		if r.Method == http.MethodHead {
			action = "ecr:BatchCheckLayerAvailability"
		}
	}
	if msg := s.authorize(sess, action, s.cfg.RepositoryARN(repo)); msg != "" {
		regError(http.StatusForbidden, "DENIED", msg)
		return
	}
	img := s.images[repo]
	if img == nil {
		regError(http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, s.cfg.Account))
		return
	}
	var content []byte
	var ctype string
	switch {
	case kind == "manifests" && (ref == img.repo.Tag || ref == digest(img.manifest)):
		content, ctype = img.manifest, "application/vnd.oci.image.manifest.v1+json"
	case kind == "blobs" && img.blobs[ref] != nil:
		content, ctype = img.blobs[ref], "application/octet-stream"
	case kind == "manifests":
		regError(http.StatusNotFound, "MANIFEST_UNKNOWN", fmt.Sprintf("Requested image not found: %s:%s", repo, ref))
		return
	default:
		regError(http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Docker-Content-Digest", digest(content))
	w.Header().Set("Content-Length", fmt.Sprint(len(content)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(content)
	}
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

// s3 is the S3 REST API, path-style: /bucket/key.
func (s *Server) s3(w http.ResponseWriter, r *http.Request) {
	s3Error := func(status int, code, msg, resource string) {
		type xmlError struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string   `xml:"Code"`
			Message   string   `xml:"Message"`
			Resource  string   `xml:"Resource,omitempty"`
			RequestID string   `xml:"RequestId"`
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(xmlError{Code: code, Message: msg, Resource: resource, RequestID: strings.ToUpper(randomHex(8))})
	}
	body, err := readBody(r)
	if err != nil {
		s3Error(http.StatusBadRequest, "EntityTooLarge", err.Error(), r.URL.Path)
		return
	}
	sess, aerr := s.authenticate(r, body)
	if aerr != nil {
		s3Error(http.StatusForbidden, aerr.s3Code, aerr.message, r.URL.Path)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var action, resource string
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		action, resource = "s3:ListAllMyBuckets", "*"
	case key == "" && r.Method == http.MethodGet:
		action, resource = "s3:ListBucket", "arn:aws:s3:::"+bucket
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		action, resource = "s3:GetObject", "arn:aws:s3:::"+bucket+"/"+key
	case key != "" && r.Method == http.MethodPut:
		action, resource = "s3:PutObject", "arn:aws:s3:::"+bucket+"/"+key
	case key != "" && r.Method == http.MethodDelete:
		action, resource = "s3:DeleteObject", "arn:aws:s3:::"+bucket+"/"+key
	default:
		s3Error(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.", r.URL.Path)
		return
	}
	if msg := s.authorize(sess, action, resource); msg != "" {
		// S3 answers a bare "Access Denied"; the full reason goes to the log.
		s3Error(http.StatusForbidden, "AccessDenied", "Access Denied", r.URL.Path)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bucket != "" && !s.buckets[bucket] {
		s3Error(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "/"+bucket)
		return
	}
	switch action {
	case "s3:ListAllMyBuckets":
		names := make([]string, 0, len(s.buckets))
		for b := range s.buckets {
			names = append(names, b)
		}
		sort.Strings(names)
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, "%s<ListAllMyBucketsResult><Buckets>", xml.Header)
		for _, n := range names {
			fmt.Fprintf(w, "<Bucket><Name>%s</Name></Bucket>", n)
		}
		fmt.Fprint(w, "</Buckets></ListAllMyBucketsResult>")
	case "s3:ListBucket":
		prefix := r.URL.Query().Get("prefix")
		var keys []string
		for k := range s.objects {
			if b, kk, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(kk, prefix) {
				keys = append(keys, kk)
			}
		}
		sort.Strings(keys)
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, "%s<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>", xml.Header, bucket, xmlEscape(prefix), len(keys))
		for _, k := range keys {
			fmt.Fprintf(w, "<Contents><Key>%s</Key><Size>%d</Size></Contents>", xmlEscape(k), len(s.objects[bucket+"/"+k]))
		}
		fmt.Fprint(w, "</ListBucketResult>")
	case "s3:GetObject":
		obj, ok := s.objects[bucket+"/"+key]
		if !ok {
			// Without s3:ListBucket, S3 does not reveal that a key is
			// missing: it answers 403 instead of 404.
			if s.authorizeLocked(sess, "s3:ListBucket", "arn:aws:s3:::"+bucket) {
				s3Error(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", r.URL.Path)
			} else {
				s3Error(http.StatusForbidden, "AccessDenied", "Access Denied", r.URL.Path)
			}
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Length", fmt.Sprint(len(obj)))
		w.Header().Set("ETag", `"`+digest(obj)[7:39]+`"`)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(obj)
		}
	case "s3:PutObject":
		s.objects[bucket+"/"+key] = body
		w.Header().Set("ETag", `"`+digest(body)[7:39]+`"`)
		w.WriteHeader(http.StatusOK)
	case "s3:DeleteObject":
		delete(s.objects, bucket+"/"+key)
		w.WriteHeader(http.StatusNoContent)
	}
}

// authorizeLocked is a silent authorisation check for use under s.mu.
func (s *Server) authorizeLocked(sess *session, action, resource string) bool {
	if sess.role.permErr != nil {
		return false
	}
	return policy.Evaluate(policy.Request{Action: action, Resource: resource}, sess.role.perm).Allowed()
}

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}

package awssim

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"coldstart/exercises/labs/awssim/policy"
)

// ServicePrincipalHeader tells the simulated STS which AWS service principal
// is asking to assume a role: the simulator stands in for AWS's own
// service-to-service trust, which a client cannot forge in the real cloud.
const ServicePrincipalHeader = "X-Coldstart-Service-Principal"

// Server is the simulator.
type Server struct {
	cfg    *Config
	roles  map[string]*role
	log    *slog.Logger
	images map[string]*image

	mu       sync.Mutex
	sessions map[string]*session // by access key id
	tokens   map[string]*session // ECR registry tokens
	creds    map[string]Credentials
	objects  map[string][]byte
	buckets  map[string]bool
	streams  map[string][]string // "group\x00stream" → messages
}

type role struct {
	name, arn   string
	trust, perm *policy.Document
	trustErr    error
	permErr     error
}

type session struct {
	role  *role
	name  string
	creds Credentials
}

// assumedARN is how AWS names a caller holding role credentials.
func (s *session) assumedARN(account string) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, s.role.name, s.name)
}

// NewServer returns a simulator for the account cfg describes. Policies
// that do not parse are kept as errors: such a role can do nothing.
func NewServer(cfg *Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("aws-sim configuration: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: logger, roles: map[string]*role{}, images: map[string]*image{},
		sessions: map[string]*session{}, tokens: map[string]*session{}, creds: map[string]Credentials{},
		objects: map[string][]byte{}, buckets: map[string]bool{}, streams: map[string][]string{}}
	for _, r := range cfg.Roles {
		ro := &role{name: r.Name, arn: cfg.RoleARN(r.Name)}
		ro.trust, ro.trustErr = policy.Parse(r.TrustPolicy, policy.Trust)
		ro.perm, ro.permErr = policy.Parse(r.PermissionPolicy, policy.Identity)
		s.roles[r.Name] = ro
	}
	for k, v := range cfg.Objects {
		b, _, _ := strings.Cut(k, "/")
		s.buckets[b] = true
		s.objects[k] = []byte(v)
	}
	for _, repo := range cfg.Repositories {
		s.images[repo.Name] = newImage(repo)
	}
	return s, nil
}

// ServeHTTP routes a call to the service its Host names.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(hostOnly(r.Host))
	region := s.cfg.Region
	switch {
	case r.URL.Path == "/healthz":
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	case strings.HasPrefix(r.URL.Path, "/v2/credentials/") && !strings.Contains(host, ".amazonaws.com"):
		s.credentialEndpoint(w, r)
	case host == "sts.amazonaws.com" || host == "sts."+region+".amazonaws.com":
		s.sts(w, r)
	case host == "s3."+region+".amazonaws.com":
		s.s3(w, r)
	case host == "api.ecr."+region+".amazonaws.com":
		s.jsonService(w, r, "AmazonEC2ContainerRegistry_V20150921.", s.ecrOps())
	case host == s.cfg.Account+".dkr.ecr."+region+".amazonaws.com":
		s.registry(w, r)
	case host == "secretsmanager."+region+".amazonaws.com":
		s.jsonService(w, r, "secretsmanager.", s.secretsOps())
	case host == "logs."+region+".amazonaws.com":
		s.jsonService(w, r, "Logs_20140328.", s.logsOps())
	default:
		writeJSONError(w, http.StatusNotFound, "UnknownEndpoint", fmt.Sprintf("this simulator does not serve %s", host))
	}
}

// readBody reads a request body, bounded.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("request body too large")
	}
	return b, nil
}

// authError is a failed authentication, with the code each protocol uses.
type authError struct {
	jsonCode, s3Code, message string
}

// authenticate finds the session whose credentials signed r.
func (s *Server) authenticate(r *http.Request, body []byte) (*session, *authError) {
	h := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(h, authScheme+" ")
	if !ok {
		return nil, &authError{"MissingAuthenticationTokenException", "AccessDenied", "Request is missing Authentication Token"}
	}
	var akid, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			akid, _, _ = strings.Cut(v, "/")
		case "Signature":
			sig = v
		}
	}
	s.mu.Lock()
	sess := s.sessions[akid]
	s.mu.Unlock()
	if sess == nil {
		return nil, &authError{"UnrecognizedClientException", "InvalidAccessKeyId", "The security token included in the request is invalid."}
	}
	if !hmac.Equal([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(sess.creds.Token)) {
		return nil, &authError{"UnrecognizedClientException", "InvalidToken", "The security token included in the request is invalid."}
	}
	want := signature(sess.creds.SecretAccessKey, r.Method, hostOnly(r.Host), r.URL.Path, r.Header.Get("X-Amz-Date"), body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, &authError{"InvalidSignatureException", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	return sess, nil
}

// authorize evaluates the session's role policy for one action on one
// resource and logs the decision. It returns the AccessDenied message, or
// "" when the call is allowed.
func (s *Server) authorize(sess *session, action, resource string) string {
	who := sess.assumedARN(s.cfg.Account)
	deny := func(reason, outcome string) string {
		s.log.Info("authorize", slog.String("principal", who), slog.String("action", action),
			slog.String("resource", resource), slog.String("decision", outcome))
		return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", who, action, resource, reason)
	}
	if sess.role.permErr != nil {
		return deny("because the role's permission policy is malformed", "Malformed")
	}
	d := policy.Evaluate(policy.Request{Action: action, Resource: resource, Context: s.callContext(sess)}, sess.role.perm)
	switch d.Outcome {
	case policy.Allowed:
		s.log.Info("authorize", slog.String("principal", who), slog.String("action", action),
			slog.String("resource", resource), slog.String("decision", "Allow"))
		return ""
	case policy.ExplicitDeny:
		return deny("with an explicit deny in an identity-based policy", string(d.Outcome))
	case policy.Conditional:
		return deny("because the statements that allow it depend on a condition this simulator does not evaluate ("+d.NotEvaluated[0].Why+")", string(d.Outcome))
	}
	return deny("because no identity-based policy allows the "+action+" action", string(d.Outcome))
}

// assume issues credentials for a role if its trust policy lets the
// principal assume it; otherwise it returns the AccessDenied message.
func (s *Server) assume(roleARN string, who policy.Principal, sessionName string) (*session, string) {
	var ro *role
	for _, r := range s.roles {
		if r.arn == roleARN {
			ro = r
		}
	}
	denied := func(reason string) string {
		s.log.Info("assume-role", slog.String("principal", who.ID), slog.String("role", roleARN), slog.String("decision", "Deny"))
		return fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s %s", who.ID, roleARN, reason)
	}
	switch {
	case ro == nil:
		return nil, denied("because the role does not exist")
	case ro.trustErr != nil:
		return nil, denied("because the role's trust policy is malformed")
	}
	d := policy.Evaluate(policy.Request{Action: "sts:AssumeRole", Principal: who, Context: s.assumeContext(who, sessionName)}, ro.trust)
	switch d.Outcome {
	case policy.Allowed:
	case policy.ExplicitDeny:
		return nil, denied("with an explicit deny in the role's trust policy")
	case policy.Conditional:
		return nil, denied("because the trust policy allows it only under a condition this simulator does not evaluate (" + d.NotEvaluated[0].Why + ")")
	default:
		return nil, denied("because the role's trust policy does not allow " + who.ID + " to assume it")
	}
	sess := &session{role: ro, name: sessionName, creds: Credentials{
		AccessKeyID:     "ASIA" + strings.ToUpper(randomHex(8)),
		SecretAccessKey: randomHex(20),
		Token:           randomHex(32),
		Expiration:      time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		RoleArn:         ro.arn,
	}}
	s.mu.Lock()
	s.sessions[sess.creds.AccessKeyID] = sess
	s.mu.Unlock()
	s.log.Info("assume-role", slog.String("principal", who.ID), slog.String("role", roleARN), slog.String("decision", "Allow"),
		slog.String("accessKeyId", sess.creds.AccessKeyID))
	return sess, ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"__type": code, "message": msg})
}

// Main runs the simulator: configuration from AWSSIM_CONFIG, port from PORT
// (default 80), JSON log lines on stdout, until SIGTERM.
func Main(args []string) int {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With(slog.String("lab", "aws-sim"))
	var cfg Config
	if err := json.Unmarshal([]byte(os.Getenv(ConfigEnv)), &cfg); err != nil {
		logger.Error("read configuration", slog.String("env", ConfigEnv), slog.Any("err", err))
		return 2
	}
	srv, err := NewServer(&cfg, logger)
	if err != nil {
		logger.Error("configuration", slog.Any("err", err))
		return 2
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		logger.Error("listen", slog.Any("err", err))
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	logger.Info("listening", slog.String("port", port), slog.Int("roles", len(cfg.Roles)))
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", slog.Any("err", err))
		return 1
	}
	return 0
}

// callContext is the request context of a call signed with a role
// session's credentials.
func (s *Server) callContext(sess *session) policy.Context {
	return policy.PrincipalContext(s.cfg.Account, sess.role.arn)
}

// assumeContext is the request context of an sts:AssumeRole: a service
// principal acting for a task carries the account and the task's ARN (in
// the simulated cluster "default", the session naming the task).
func (s *Server) assumeContext(who policy.Principal, sessionName string) policy.Context {
	if who.Type == "Service" {
		return policy.ServiceContext(who.ID, s.cfg.Account, fmt.Sprintf("arn:aws:ecs:%s:%s:task/default/%s", s.cfg.Region, s.cfg.Account, sessionName))
	}
	return policy.PrincipalContext(accountOfARN(who.ID), who.ID)
}

func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}

// Package reportreader is the report-reader lab: the application of the
// fargate-roles exercise. Like an AWS SDK in an ECS task it fetches its
// credentials from the credential endpoint named by
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, reads the day's report from S3,
// then tries calls its role must not allow, and logs the outcome of each
// call as a JSON line for the grader to read.
package reportreader

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"coldstart/exercises/labs/awssim"
)

// Environment variables the program reads.
const (
	// CredentialsHostEnv stands in for 169.254.170.2, the address of the
	// ECS credential endpoint, which the grading network does not have.
	CredentialsHostEnv = "COLDSTART_CREDENTIALS_HOST"
	// ReadEnv names the object to read: bucket/key.
	ReadEnv = "REPORTS_READ"
	// ProbesEnv lists calls the role must not allow, comma-separated, each
	// "Operation target": "PutObject bucket/key", "GetObject bucket/key",
	// "GetSecretValue arn".
	ProbesEnv = "REPORTS_PROBES"
	// SecretEnv is the variable the agent fills from Secrets Manager.
	SecretEnv = "DB_PASSWORD"
)

// Outcome is one call the program made, as logged.
type Outcome struct {
	Op     string `json:"op"`
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	Error  string `json:"error,omitempty"`
	Bytes  int    `json:"bytes,omitempty"`
	Rows   int    `json:"rows,omitempty"`
	Header string `json:"header,omitempty"`
}

// Report is what the program's log says happened.
type Report struct {
	// Role is the role whose credentials the program got; empty if none.
	Role string
	// CredentialsError says why no credentials were obtained.
	CredentialsError string
	// SecretSet reports whether DB_PASSWORD was in the environment.
	SecretSet bool
	Calls     []Outcome
	// Done is set when the program finished its calls.
	Done bool
}

// Call returns the outcome of the first call with the given op and target.
func (r *Report) Call(op, target string) (Outcome, bool) {
	for _, c := range r.Calls {
		if c.Op == op && c.Target == target {
			return c, true
		}
	}
	return Outcome{}, false
}

// ParseLog reads the program's JSON log lines; other lines are ignored.
func ParseLog(log string) Report {
	var rep Report
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg   string `json:"msg"`
			Role  string `json:"role"`
			Error string `json:"error"`
			Set   bool   `json:"set"`
			Outcome
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Msg {
		case "credentials":
			rep.Role, rep.CredentialsError = line.Role, line.Error
		case "secret":
			rep.SecretSet = line.Set
		case "call":
			rep.Calls = append(rep.Calls, line.Outcome)
		case "done":
			rep.Done = true
		}
	}
	return rep
}

// Main runs the program once and exits: 0 when it made its calls (whatever
// their outcome), 1 when it got no credentials.
func Main(args []string) int {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With(slog.String("lab", "report-reader"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	region := envOr("AWS_REGION", "us-east-1")
	hc := &http.Client{Timeout: 5 * time.Second}

	pw, set := os.LookupEnv(SecretEnv)
	logger.Info("secret", slog.String("env", SecretEnv), slog.Bool("set", set && pw != ""), slog.Int("length", len(pw)))

	rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
	if rel == "" {
		logger.Error("credentials", slog.String("error", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not set: the task has no task role"))
		return 1
	}
	creds, err := awssim.FetchCredentials(ctx, hc, envOr(CredentialsHostEnv, "169.254.170.2"), rel)
	if err != nil {
		logger.Error("credentials", slog.String("error", err.Error()))
		return 1
	}
	logger.Info("credentials", slog.String("role", creds.RoleArn), slog.String("accessKeyId", creds.AccessKeyID))
	client := &awssim.Client{HTTP: hc, Region: region, Creds: creds}

	if target := os.Getenv(ReadEnv); target != "" {
		logCall(logger, call(ctx, client, region, "GetObject", target))
	}
	for _, p := range strings.Split(os.Getenv(ProbesEnv), ",") {
		op, target, ok := strings.Cut(strings.TrimSpace(p), " ")
		if !ok {
			continue
		}
		logCall(logger, call(ctx, client, region, op, strings.TrimSpace(target)))
	}
	logger.Info("done")
	return 0
}

func logCall(logger *slog.Logger, o Outcome) {
	attrs := []any{slog.String("op", o.Op), slog.String("target", o.Target), slog.Bool("ok", o.OK), slog.Int("status", o.Status)}
	if o.OK {
		attrs = append(attrs, slog.Int("bytes", o.Bytes))
		if o.Rows > 0 {
			attrs = append(attrs, slog.Int("rows", o.Rows), slog.String("header", o.Header))
		}
	} else {
		attrs = append(attrs, slog.String("code", o.Code), slog.String("error", o.Error))
	}
	logger.Info("call", attrs...)
}

// call makes one call and describes its outcome.
func call(ctx context.Context, c *awssim.Client, region, op, target string) Outcome {
	o := Outcome{Op: op, Target: target}
	var resp *awssim.Response
	var err error
	s3host := "s3." + region + ".amazonaws.com"
	switch op {
	case "GetObject":
		resp, err = c.Call(ctx, http.MethodGet, s3host, "/"+target, nil, nil)
	case "PutObject":
		resp, err = c.Call(ctx, http.MethodPut, s3host, "/"+target, http.Header{"Content-Type": {"text/csv"}},
			[]byte("date,orders,revenue\n"+time.Now().UTC().Format("2006-01-02")+",0,0\n"))
	case "DeleteObject":
		resp, err = c.Call(ctx, http.MethodDelete, s3host, "/"+target, nil, nil)
	case "GetSecretValue":
		var out struct {
			SecretString string `json:"SecretString"`
		}
		err = c.JSON(ctx, "secretsmanager."+region+".amazonaws.com", "secretsmanager.GetSecretValue", map[string]string{"SecretId": target}, &out)
		o.Bytes = len(out.SecretString)
	default:
		o.Code, o.Error = "UnknownOperation", fmt.Sprintf("report-reader cannot call %s", op)
		return o
	}
	var apiErr *awssim.APIError
	switch {
	case errors.As(err, &apiErr):
		o.Status, o.Code, o.Error = apiErr.Status, apiErr.Code, apiErr.Message
	case err != nil:
		o.Code, o.Error = "NetworkError", err.Error()
	case resp == nil:
		o.OK, o.Status = true, http.StatusOK
	case resp.Err() != nil:
		e := resp.Err()
		o.Status, o.Code, o.Error = e.Status, e.Code, e.Message
	default:
		o.OK, o.Status, o.Bytes = true, resp.Status, len(resp.Body)
		if op == "GetObject" && len(resp.Body) > 0 {
			lines := bytes.Split(bytes.TrimSpace(resp.Body), []byte("\n"))
			o.Header = string(lines[0])
			o.Rows = len(lines) - 1
		}
	}
	return o
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

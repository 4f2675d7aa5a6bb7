package awssim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coldstart/exercises/labs/awssim"
)

const (
	account   = "123456789012"
	region    = "us-east-1"
	secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-AbCdEf"
	trustECS  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	execPerm  = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"],"Resource":"*"},
		{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/ecs/api-worker:*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + secretARN + `"}]}`
	taskPerm = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports-bucket/daily/*"}]}`
)

func config(execP, taskP, taskTrust string) *awssim.Config {
	return &awssim.Config{
		Region: region, Account: account, Service: "ecs-tasks.amazonaws.com",
		Roles: []awssim.Role{
			{Name: "api-worker-execution", TrustPolicy: json.RawMessage(trustECS), PermissionPolicy: json.RawMessage(execP)},
			{Name: "api-worker-task", TrustPolicy: json.RawMessage(taskTrust), PermissionPolicy: json.RawMessage(taskP)},
		},
		Objects: map[string]string{
			"reports-bucket/daily/2024-05-01.csv": "date,orders\n2024-05-01,12\n",
			"billing-exports/2024-05.csv":         "account,cost\n1,2\n",
		},
		Secrets:      map[string]string{secretARN: "s3cr3t-pa55"},
		Repositories: []awssim.Repository{{Name: "api-worker", Tag: "1.4.2"}},
		LogGroups:    []string{"/ecs/api-worker"},
		Credentials:  map[string]string{"4f1c2d": "api-worker-task"},
	}
}

func start(t *testing.T, cfg *awssim.Config) string {
	t.Helper()
	srv, err := awssim.NewServer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "http://")
}

var spec = awssim.TaskSpec{
	Image:            account + ".dkr.ecr.us-east-1.amazonaws.com/api-worker:1.4.2",
	ExecutionRoleARN: "arn:aws:iam::123456789012:role/api-worker-execution",
	Secrets:          map[string]string{"DB_PASSWORD": secretARN},
	LogGroup:         "/ecs/api-worker", LogStream: "ecs/api-worker/4f1c2d",
}

func TestTaskLifecycle(t *testing.T) {
	ctx := context.Background()
	addr := start(t, config(execPerm, taskPerm, trustECS))
	agent := &awssim.Agent{Addr: addr, Region: region, Service: "ecs-tasks.amazonaws.com"}
	task, err := agent.Start(ctx, spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if task.Env["DB_PASSWORD"] != "s3cr3t-pa55" || task.ImageBytes == 0 {
		t.Fatalf("task: env %v, %d image bytes", task.Env, task.ImageBytes)
	}
	if err := task.ShipLogs(ctx, []string{`{"msg":"hello"}`}); err != nil {
		t.Fatalf("ship logs: %v", err)
	}

	creds, err := awssim.FetchCredentials(ctx, nil, addr, "/v2/credentials/4f1c2d")
	if err != nil {
		t.Fatal(err)
	}
	if creds.RoleArn != "arn:aws:iam::123456789012:role/api-worker-task" {
		t.Fatalf("credentials of %s", creds.RoleArn)
	}
	app := &awssim.Client{Region: region, Creds: creds, Addr: addr}
	s3 := "s3.us-east-1.amazonaws.com"
	resp, err := app.Call(ctx, http.MethodGet, s3, "/reports-bucket/daily/2024-05-01.csv", nil, nil)
	if err != nil || resp.Status != 200 || !strings.HasPrefix(string(resp.Body), "date,orders") {
		t.Fatalf("GetObject daily: %v %+v", err, resp)
	}
	for _, c := range []struct{ method, path, code string }{
		{http.MethodPut, "/reports-bucket/daily/x.csv", "AccessDenied"},
		{http.MethodGet, "/billing-exports/2024-05.csv", "AccessDenied"},
		// No s3:ListBucket: a missing key is reported as AccessDenied, not NoSuchKey.
		{http.MethodGet, "/reports-bucket/daily/missing.csv", "AccessDenied"},
	} {
		resp, err := app.Call(ctx, c.method, s3, c.path, nil, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if e := resp.Err(); e == nil || e.Code != c.code || e.Status != 403 {
			t.Errorf("%s %s: got %+v, want %s", c.method, c.path, e, c.code)
		}
	}
	err = app.JSON(ctx, "secretsmanager.us-east-1.amazonaws.com", "secretsmanager.GetSecretValue", map[string]string{"SecretId": secretARN}, nil)
	var apiErr *awssim.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "AccessDeniedException" || !strings.Contains(apiErr.Message, "assumed-role/api-worker-task/") {
		t.Fatalf("task role reading the secret: %v", err)
	}

	// A forged signature is refused.
	forged := &awssim.Client{Region: region, Creds: creds, Addr: addr}
	forged.Creds.SecretAccessKey = "guess"
	resp, _ = forged.Call(ctx, http.MethodGet, s3, "/reports-bucket/daily/2024-05-01.csv", nil, nil)
	if e := resp.Err(); e == nil || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("forged signature: %+v", e)
	}
}

func TestAgentFailures(t *testing.T) {
	noSecret := strings.Replace(execPerm, `"secretsmanager:GetSecretValue"`, `"secretsmanager:DescribeSecret"`, 1)
	noManifest := strings.Replace(execPerm, `"ecr:BatchGetImage"`, `"ecr:DescribeImages"`, 1)
	noToken := strings.Replace(execPerm, `"ecr:GetAuthorizationToken",`, ``, 1)
	noLogs := strings.Replace(execPerm, `"logs:CreateLogStream",`, ``, 1)
	wrongTrust := strings.Replace(trustECS, "ecs-tasks", "ec2", 1)
	tests := []struct {
		name, exec, trust, stage, reason string
	}{
		{"SecretDenied", noSecret, trustECS, "secrets", "ResourceInitializationError: unable to pull secrets or registry auth"},
		{"RegistryTokenDenied", noToken, trustECS, "registry-auth", "ecr:GetAuthorizationToken"},
		{"ManifestDenied", noManifest, trustECS, "pull", "CannotPullContainerError"},
		{"LogStreamDenied", noLogs, trustECS, "logs", "logs:CreateLogStream"},
		{"UntrustedRole", execPerm, wrongTrust, "assume", "cannot assume the execution role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(tt.exec, taskPerm, trustECS)
			cfg.Roles[0].TrustPolicy = json.RawMessage(tt.trust)
			addr := start(t, cfg)
			agent := &awssim.Agent{Addr: addr, Region: region, Service: "ecs-tasks.amazonaws.com"}
			_, err := agent.Start(context.Background(), spec)
			var se *awssim.StartError
			if !errors.As(err, &se) {
				t.Fatalf("want a StartError, got %v", err)
			}
			if se.Stage != tt.stage || !strings.Contains(se.Reason, tt.reason) {
				t.Fatalf("got stage %s: %s", se.Stage, se.Reason)
			}
		})
	}
}

func TestTaskRoleUntrusted(t *testing.T) {
	addr := start(t, config(execPerm, taskPerm, strings.Replace(trustECS, "ecs-tasks", "lambda", 1)))
	_, err := awssim.FetchCredentials(context.Background(), nil, addr, "/v2/credentials/4f1c2d")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "sts:AssumeRole") {
		t.Fatalf("got %v", err)
	}
}

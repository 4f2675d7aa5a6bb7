package awssim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Credentials are temporary role credentials, in the shape the ECS
// credential endpoint serves them.
type Credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	RoleArn         string `json:"RoleArn"`
}

// APIError is an error answer of a simulated service.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// maxBody bounds every body read by the simulator and its clients.
const maxBody = 1 << 20

// authScheme is the scheme of the Authorization header, as with SigV4.
const authScheme = "AWS4-HMAC-SHA256"

// Sign signs r for the credentials: the Authorization header names the
// access key and carries an HMAC of the method, host, path, time and body
// under the secret key; the session token rides in X-Amz-Security-Token.
func Sign(r *http.Request, body []byte, creds Credentials, region string, now time.Time) {
	stamp := now.UTC().Format("20060102T150405Z")
	r.Header.Set("X-Amz-Date", stamp)
	if creds.Token != "" {
		r.Header.Set("X-Amz-Security-Token", creds.Token)
	}
	host := hostOnly(r.Host)
	if host == "" {
		host = hostOnly(r.URL.Host)
	}
	service, _, _ := strings.Cut(host, ".")
	if service == "api" {
		service = "ecr"
	}
	sig := signature(creds.SecretAccessKey, r.Method, host, r.URL.Path, stamp, body)
	r.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=%s",
		authScheme, creds.AccessKeyID, stamp[:8], region, service, sig))
}

func signature(secret, method, host, path, stamp string, body []byte) string {
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s\n%s\n%s\n%s\n%s", method, host, path, stamp, hex.EncodeToString(sum[:]))
	return hex.EncodeToString(mac.Sum(nil))
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// Client calls the simulated services with one role's credentials.
type Client struct {
	HTTP   *http.Client
	Region string
	Creds  Credentials
	// Addr, when set, is the host:port every call connects to whatever the
	// service's host name (which still goes in the Host header): the grader
	// reaches the simulator at its container address this way. Empty means
	// the host name itself on port 80.
	Addr string
}

// Response is a service's answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Err returns the answer's error, or nil for a 2xx answer.
func (r *Response) Err() *APIError {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	return parseError(r.Status, r.Body)
}

func (c *Client) url(host, path string) string {
	addr := host
	if c.Addr != "" {
		addr = c.Addr
	}
	return "http://" + addr + path
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Call sends a signed request to the service at host.
func (c *Client) Call(ctx context.Context, method, host, path string, header http.Header, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(host, path), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s%s: %w", method, host, path, err)
	}
	req.Host = host
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Creds.AccessKeyID != "" {
		Sign(req, body, c.Creds, c.Region, time.Now())
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (*Response, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s http://%s%s: %w", req.Method, req.Host, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s http://%s%s: read answer: %w", req.Method, req.Host, req.URL.Path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// JSON calls an operation of a JSON-protocol service (ECR, Secrets Manager,
// CloudWatch Logs): target is the X-Amz-Target header, such as
// "secretsmanager.GetSecretValue". out may be nil.
func (c *Client) JSON(ctx context.Context, host, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {target}}
	resp, err := c.Call(ctx, http.MethodPost, host, "/", h, body)
	if err != nil {
		return err
	}
	if e := resp.Err(); e != nil {
		return e
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return fmt.Errorf("%s: unreadable answer: %w", target, err)
		}
	}
	return nil
}

// Registry calls the ECR registry (Docker registry API) with the token
// GetAuthorizationToken returned, as docker pull does.
func (c *Client) Registry(ctx context.Context, method, host, path, token string) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(host, path), nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s%s: %w", method, host, path, err)
	}
	req.Host = host
	req.Header.Set("Authorization", "Basic "+token)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	return c.do(req)
}

// AssumeRole asks STS, as the service principal, for credentials of a role.
func (c *Client) AssumeRole(ctx context.Context, service, roleARN, session string) (Credentials, error) {
	form := "Action=AssumeRole&Version=2011-06-15&RoleArn=" + roleARN + "&RoleSessionName=" + session
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}, ServicePrincipalHeader: {service}}
	resp, err := c.Call(ctx, http.MethodPost, "sts.amazonaws.com", "/", h, []byte(form))
	if err != nil {
		return Credentials{}, err
	}
	if e := resp.Err(); e != nil {
		return Credentials{}, e
	}
	var out assumeRoleJSON
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return Credentials{}, fmt.Errorf("AssumeRole: unreadable answer: %w", err)
	}
	cr := out.AssumeRoleResponse.AssumeRoleResult.Credentials
	return Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, Token: cr.SessionToken,
		Expiration: cr.Expiration, RoleArn: roleARN}, nil
}

// FetchCredentials reads role credentials from the ECS credential endpoint,
// as an AWS SDK does with AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
func FetchCredentials(ctx context.Context, hc *http.Client, host, relativeURI string) (Credentials, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+relativeURI, nil)
	if err != nil {
		return Credentials{}, fmt.Errorf("credential endpoint: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Credentials{}, fmt.Errorf("credential endpoint: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return Credentials{}, fmt.Errorf("credential endpoint: %w", parseError(resp.StatusCode, b))
	}
	var cr Credentials
	if err := json.Unmarshal(b, &cr); err != nil || cr.AccessKeyID == "" {
		return Credentials{}, fmt.Errorf("credential endpoint: unreadable answer")
	}
	return cr, nil
}

// parseError reads any of the error shapes the simulated services use.
func parseError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	trimmed := bytes.TrimSpace(body)
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		var x struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
			Error   struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		if xml.Unmarshal(trimmed, &x) == nil {
			e.Code, e.Message = x.Code, x.Message
			if e.Code == "" {
				e.Code, e.Message = x.Error.Code, x.Error.Message
			}
		}
	case bytes.HasPrefix(trimmed, []byte("{")):
		var j struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			MessageU string `json:"Message"`
			Error    *struct {
				Code    string `json:"Code"`
				Message string `json:"Message"`
			} `json:"Error"`
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(trimmed, &j) == nil {
			switch {
			case j.Type != "":
				e.Code = j.Type[strings.LastIndex(j.Type, "#")+1:]
				e.Message = j.Message + j.MessageU
			case j.Error != nil:
				e.Code, e.Message = j.Error.Code, j.Error.Message
			case len(j.Errors) > 0:
				e.Code, e.Message = j.Errors[0].Code, j.Errors[0].Message
			}
		}
	}
	if e.Code == "" {
		e.Code = "HTTP " + strconv.Itoa(status)
		e.Message = strings.TrimSpace(string(truncate(trimmed, 200)))
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

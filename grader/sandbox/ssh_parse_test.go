package sandbox

import (
	"strings"
	"testing"
)

func TestSSHHostsAreReadAsTheDockerCommandReadsThem(t *testing.T) {
	for _, tt := range []struct {
		host string
		args string // the ssh command line; "" when refused
		err  string
	}{
		{"ssh://root@127.0.0.1:2222", "-o ConnectTimeout=10 -o BatchMode=yes -T -l root -p 2222 -- 127.0.0.1 docker system dial-stdio", ""},
		{"ssh://grader.example", "-o ConnectTimeout=10 -o BatchMode=yes -T -- grader.example docker system dial-stdio", ""},
		{"ssh://ci@[::1]:22/run/user/1000/docker.sock", "-o ConnectTimeout=10 -o BatchMode=yes -T -l ci -p 22 -- ::1 docker --host=unix:///run/user/1000/docker.sock system dial-stdio", ""},
		{"ssh://root:hunter2@grader.example", "", "carries a password"},
		{"ssh://grader.example?x=1", "", "query or fragment"},
		{"ssh://grader.example:0", "", "a port is 1-65535"},
		{"ssh://grader.example:70000", "", "a port is 1-65535"},
		{"ssh://-oProxyCommand=x", "", "names no machine"},
		{"ssh://-oProxyCommand=x@grader.example", "", "user name ssh cannot take"},
		{"ssh://", "", "names no machine"},
		{"ssh://grader.example/var/run/docker.sock;reboot", "", "characters the remote shell would read"},
	} {
		t.Run(tt.host, func(t *testing.T) {
			e, err := parseSSHHost(tt.host)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(e.args(), " "); got != tt.args {
				t.Fatalf("ssh %s\nwant ssh %s", got, tt.args)
			}
		})
	}
}

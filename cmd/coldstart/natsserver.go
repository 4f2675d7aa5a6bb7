package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"coldstart/grader/jobs"
)

// NATSConfig says where the grading queue lives: a NATS server with
// JetStream embedded in `coldstart serve` (the default), or an external
// cluster.
type NATSConfig struct {
	// URL names an external NATS server or cluster; empty embeds one.
	URL string
	// Listen is the embedded server's client address for grader nodes on
	// other machines; empty or "off": reachable from this process only.
	Listen string
	// Token is the password every NATS client presents.
	Token string
	// TLSCert and TLSKey turn on TLS for the embedded server's listener.
	TLSCert, TLSKey string
	// AckWait is how long a node may go silent before its job is given to
	// another.
	AckWait time.Duration
	// Replicas is how many copies of the streams a NATS cluster keeps.
	Replicas int
}

// register adds the queue's flags to fs, with COLDSTART_* defaults.
func (c *NATSConfig) register(fs *flag.FlagSet) error {
	fs.StringVar(&c.URL, "nats", env("COLDSTART_NATS", ""), "URL of an external NATS server or cluster with JetStream, e.g. nats://nats1:4222,nats://nats2:4222; empty embeds one (COLDSTART_NATS)")
	fs.StringVar(&c.Listen, "nats-listen", env("COLDSTART_NATS_LISTEN", "127.0.0.1:4222"), "address the embedded NATS server takes grader nodes on; off: none (COLDSTART_NATS_LISTEN)")
	c.Token = os.Getenv("COLDSTART_NATS_TOKEN")
	fs.StringVar(&c.Token, "nats-token", c.Token, "token every NATS client presents; required when --nats-listen is beyond loopback; prefer the environment variable (COLDSTART_NATS_TOKEN)")
	fs.StringVar(&c.TLSCert, "nats-tls-cert", env("COLDSTART_NATS_TLS_CERT", ""), "certificate file (PEM) for the embedded NATS listener (COLDSTART_NATS_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "nats-tls-key", env("COLDSTART_NATS_TLS_KEY", ""), "private key file (PEM) for --nats-tls-cert (COLDSTART_NATS_TLS_KEY)")
	wait, err := time.ParseDuration(env("COLDSTART_NATS_ACK_WAIT", jobs.DefaultAckWait.String()))
	if err != nil {
		return fmt.Errorf("COLDSTART_NATS_ACK_WAIT: %w", err)
	}
	fs.DurationVar(&c.AckWait, "nats-ack-wait", wait, "how long a grader node may go silent before its job is given to another (COLDSTART_NATS_ACK_WAIT)")
	replicas, _ := strconv.Atoi(env("COLDSTART_NATS_REPLICAS", "1"))
	fs.IntVar(&c.Replicas, "nats-replicas", replicas, "copies of the grading streams in an external NATS cluster: 1, 3 or 5 (COLDSTART_NATS_REPLICAS)")
	return nil
}

func (c *NATSConfig) validate() error {
	if c.AckWait < time.Second || c.AckWait > 10*time.Minute {
		return fmt.Errorf("--nats-ack-wait must be between 1s and 10m, not %s", c.AckWait)
	}
	switch c.Replicas {
	case 0, 1, 3, 5:
	default:
		return fmt.Errorf("--nats-replicas must be 1, 3 or 5, not %d", c.Replicas)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--nats-tls-cert and --nats-tls-key go together")
	}
	if c.URL != "" {
		if c.TLSCert != "" {
			return errors.New("--nats-tls-cert is for the embedded NATS server; with --nats, put tls:// in the URL")
		}
		return nil
	}
	if c.Replicas > 1 {
		return errors.New("--nats-replicas is for an external NATS cluster (--nats); the embedded server keeps one copy")
	}
	if c.listening() {
		host, port, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return fmt.Errorf("--nats-listen %q: want host:port, e.g. 127.0.0.1:4222, or off", c.Listen)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("--nats-listen %q: the port must be a number from 0 to 65535", c.Listen)
		}
		if !isLoopback(host) && c.Token == "" {
			return fmt.Errorf("--nats-listen %s is reachable from other machines: set --nats-token (or COLDSTART_NATS_TOKEN) so that only your grader nodes connect", c.Listen)
		}
	}
	return nil
}

func (c *NATSConfig) listening() bool { return c.Listen != "" && c.Listen != "off" }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// startNATS starts the embedded server, its data beside the database.
func (c *NATSConfig) startNATS(dbPath string) (*natsserver.Server, error) {
	opts := &natsserver.Options{
		ServerName:    "coldstart",
		JetStream:     true,
		StoreDir:      natsStoreDir(dbPath),
		NoSigs:        true,
		NoLog:         true,
		DontListen:    !c.listening(),
		Authorization: c.Token,
		// A job carries one answer, which the web tier caps far below this.
		MaxPayload: 8 << 20,
		// JetStream holds at most this much; the database is the record.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  1 << 30,
	}
	if c.listening() {
		host, port, _ := net.SplitHostPort(c.Listen)
		opts.Host = host
		opts.Port, _ = strconv.Atoi(port)
		if opts.Port == 0 {
			opts.Port = natsserver.RANDOM_PORT
		}
		if c.TLSCert != "" {
			tc, err := natsserver.GenTLSConfig(&natsserver.TLSConfigOpts{CertFile: c.TLSCert, KeyFile: c.TLSKey})
			if err != nil {
				return nil, fmt.Errorf("--nats-tls-cert: %w", err)
			}
			tc.MinVersion = tls.VersionTLS12
			opts.TLSConfig, opts.TLS, opts.TLSTimeout = tc, true, 2
		}
	}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("the embedded NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		if c.listening() {
			return nil, fmt.Errorf("the embedded NATS server did not start: is %s (--nats-listen) taken by another program? Use --nats-listen off if no grader node runs on another machine", c.Listen)
		}
		return nil, errors.New("the embedded NATS server did not start")
	}
	return ns, nil
}

// natsStoreDir is where the embedded server keeps its streams.
func natsStoreDir(dbPath string) string {
	dir, base := filepath.Split(dbPath)
	return filepath.Join(dir, base+".nats")
}

// connect opens a client connection: in-process to the embedded server,
// else to URL. It keeps reconnecting for as long as the process runs.
func (c *NATSConfig) connect(ns *natsserver.Server, name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true), nats.PingInterval(5 * time.Second), nats.MaxPingsOutstanding(3)}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	url := c.URL
	if ns != nil {
		opts = append(opts, nats.InProcessServer(ns))
		url = ""
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	return nc, nil
}

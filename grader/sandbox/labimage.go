package sandbox

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"coldstart/exercises/labs"
)

// LabRepository is the image repository of lab images; the tag is a hash of
// the lab binary, so an image is rebuilt only when the labs change.
const LabRepository = "coldstart-lab"

// labDockerfile packs the static lab binary into an otherwise empty image. The
// same file answers as /bin/sh, curl and wget, so CMD-SHELL health checks run
// as they do on ECS.
const labDockerfile = `FROM scratch
COPY rootfs/ /
ENV PATH=/bin
USER 65534:65534
ENTRYPOINT ["/lab"]
`

// LabBuild reports how the lab image was obtained.
type LabBuild struct {
	Image   string
	Built   bool // false when an image with this hash already existed
	Compile time.Duration
	Pack    time.Duration
}

// LabImage returns the lab image, building it on first use.
func (s *Sandbox) LabImage(ctx context.Context) (string, error) {
	s.labMu.Lock()
	defer s.labMu.Unlock()
	if s.labImage != "" {
		return s.labImage, nil
	}
	start := time.Now()
	b, err := s.buildLab(ctx, false)
	reportLabBuild(b, start, err)
	if err != nil {
		return "", err
	}
	s.labImage = b.Image
	return b.Image, nil
}

// BuildLabImage compiles the lab binary and packs its image unless an image
// of the same hash exists (force packs it anyway).
func (s *Sandbox) BuildLabImage(ctx context.Context, force bool) (LabBuild, error) {
	s.labMu.Lock()
	defer s.labMu.Unlock()
	start := time.Now()
	b, err := s.buildLab(ctx, force)
	reportLabBuild(b, start, err)
	if err == nil {
		s.labImage = b.Image
	}
	return b, err
}

func (s *Sandbox) buildLab(ctx context.Context, force bool) (LabBuild, error) {
	var out LabBuild
	start := time.Now()
	bin, cleanup, err := labBinary(ctx)
	if err != nil {
		return out, fmt.Errorf("the lab programs could not be built: %w", err)
	}
	defer cleanup()
	out.Compile = time.Since(start)
	data, err := os.ReadFile(bin)
	if err != nil {
		return out, fmt.Errorf("read lab binary: %w", err)
	}
	sum := sha256.Sum256(append(data, labDockerfile...))
	out.Image = LabRepository + ":" + hex.EncodeToString(sum[:])[:16]
	if !force {
		if _, err := s.docker.ImageInspect(ctx, out.Image); err == nil {
			return out, nil
		}
	}
	packStart := time.Now()
	if err := s.packLab(ctx, out.Image, data); err != nil {
		return out, err
	}
	out.Pack = time.Since(packStart)
	out.Built = true
	return out, nil
}

func (s *Sandbox) packLab(ctx context.Context, tag string, binary []byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Unix(0, 0)
	add := func(h *tar.Header, body []byte) error {
		h.ModTime = now
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if err := add(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(labDockerfile))}, []byte(labDockerfile)); err != nil {
		return fmt.Errorf("pack lab image: %w", err)
	}
	for _, d := range []string{"rootfs/", "rootfs/bin/"} {
		if err := add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, nil); err != nil {
			return fmt.Errorf("pack lab image: %w", err)
		}
	}
	if err := add(&tar.Header{Name: "rootfs/lab", Mode: 0o755, Size: int64(len(binary))}, binary); err != nil {
		return fmt.Errorf("pack lab image: %w", err)
	}
	// Hard links keep the image at one copy of the binary.
	for _, name := range []string{"sh", "curl", "wget"} {
		if err := add(&tar.Header{Name: "rootfs/bin/" + name, Typeflag: tar.TypeLink, Linkname: "rootfs/lab", Mode: 0o755}, nil); err != nil {
			return fmt.Errorf("pack lab image: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack lab image: %w", err)
	}
	res, err := s.docker.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, NetworkMode: "none",
		Labels: map[string]string{LabelManaged: "true"},
	})
	if err != nil {
		return fmt.Errorf("build lab image: %w", err)
	}
	defer res.Body.Close()
	// The build reports failures in its JSON stream, not in the status code.
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Error != "" {
			return fmt.Errorf("build lab image: %s", msg.Error)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("build lab image: %w", err)
	}
	return nil
}

// labBinary returns the path of a static lab binary: the prebuilt one named
// by COLDSTART_LAB_BINARY, or one compiled now from the sources.
func labBinary(ctx context.Context) (string, func(), error) {
	if p := os.Getenv(labs.BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", nil, fmt.Errorf("%s points at %s: %w", labs.BinaryEnv, p, err)
		}
		return p, func() {}, nil
	}
	root, ok := labs.SourceRoot()
	if !ok {
		return "", nil, fmt.Errorf("this build has no lab sources on disk; set %s to a prebuilt lab binary", labs.BinaryEnv)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(goBin); serr != nil {
			return "", nil, fmt.Errorf("compiling the labs needs the Go toolchain: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "coldstart-lab-")
	if err != nil {
		return "", nil, fmt.Errorf("temp dir: %w", err)
	}
	out := filepath.Join(dir, "lab")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, labs.Package)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build %s: %w: %s", labs.Package, err, strings.TrimSpace(stderr.String()))
	}
	return out, func() { os.RemoveAll(dir) }, nil
}

package awssim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

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

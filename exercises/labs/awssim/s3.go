package awssim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

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

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}

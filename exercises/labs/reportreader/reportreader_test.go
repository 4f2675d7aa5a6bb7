package reportreader_test

import (
	"testing"

	"coldstart/exercises/labs/reportreader"
)

func TestParseLog(t *testing.T) {
	log := `{"level":"INFO","msg":"secret","env":"DB_PASSWORD","set":true,"length":19}
{"level":"INFO","msg":"credentials","role":"arn:aws:iam::123456789012:role/task","accessKeyId":"ASIA1"}
not json at all
{"level":"INFO","msg":"call","op":"GetObject","target":"b/daily/1.csv","ok":true,"status":200,"bytes":12,"rows":2,"header":"a,b"}
{"level":"INFO","msg":"call","op":"PutObject","target":"b/daily/x.csv","ok":false,"status":403,"code":"AccessDenied","error":"Access Denied"}
{"level":"INFO","msg":"done"}
`
	rep := reportreader.ParseLog(log)
	if rep.Role != "arn:aws:iam::123456789012:role/task" || !rep.SecretSet || !rep.Done || len(rep.Calls) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	if c, ok := rep.Call("GetObject", "b/daily/1.csv"); !ok || !c.OK || c.Rows != 2 || c.Header != "a,b" {
		t.Fatalf("GetObject: %+v", c)
	}
	if c, ok := rep.Call("PutObject", "b/daily/x.csv"); !ok || c.OK || c.Code != "AccessDenied" || c.Status != 403 {
		t.Fatalf("PutObject: %+v", c)
	}
	if _, ok := rep.Call("DeleteObject", "b/daily/x.csv"); ok {
		t.Fatal("a call that was not made was found")
	}

	failed := reportreader.ParseLog(`{"level":"ERROR","msg":"credentials","error":"credential endpoint: AccessDenied: no"}`)
	if failed.CredentialsError == "" || failed.Role != "" || failed.Done {
		t.Fatalf("failed credentials: %+v", failed)
	}
}

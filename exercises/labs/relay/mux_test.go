package relay

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestFramesRoundTripAndOversizeIsRefused(t *testing.T) {
	var b []byte
	b = AppendFrame(b, FrameOpen, 7, []byte("app:8080"))
	b = AppendFrame(b, FrameClose, 7, nil)
	r := bytes.NewReader(b)
	f, err := ReadFrame(r)
	if err != nil || f.Type != FrameOpen || f.Stream != 7 || string(f.Payload) != "app:8080" {
		t.Fatalf("first frame: %+v, %v", f, err)
	}
	if f, err = ReadFrame(r); err != nil || f.Type != FrameClose || len(f.Payload) != 0 {
		t.Fatalf("second frame: %+v, %v", f, err)
	}
	if _, err = ReadFrame(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
	huge := []byte{FrameData, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}
	if _, err := ReadFrame(bytes.NewReader(huge)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("a 4 GiB frame: %v", err)
	}
}

func TestServeRefusesWhatIsNotAnAddress(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Serve(inR, outW) }()
	go func() { _, _ = inW.Write(AppendFrame(nil, FrameOpen, 1, []byte("no-port"))) }()
	f, err := ReadFrame(outR)
	if err != nil || f.Type != FrameFailed || f.Stream != 1 || !strings.Contains(string(f.Payload), "not HOST:PORT") {
		t.Fatalf("answer: %+v, %v", f, err)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after its input ended: %v", err)
	}
}

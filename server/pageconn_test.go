package server

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// While a page is held nothing reaches the reader; on release every held
// write arrives, in order, and the connection writes through again.
func TestPageConnSendsAHeldPageInOneWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	wl := WrapListener(ln)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := wl.Accept()
		if err != nil {
			t.Error(err)
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sc, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer sc.Close()
	pc, ok := sc.(*pageConn)
	if !ok {
		t.Fatalf("the listener returned a %T, want a *pageConn", sc)
	}

	pc.hold()
	page := make([]byte, 0, 40<<10)
	for _, part := range []string{"HTTP/1.1 200 OK\r\n\r\n", string(make([]byte, 4000)), "the rest of the page"} {
		if n, err := pc.Write([]byte(part)); err != nil || n != len(part) {
			t.Fatalf("held write: %d, %v", n, err)
		}
		page = append(page, part...)
	}
	_ = client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := client.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the reader got %d bytes (%v) while the page was held", n, err)
	}
	pc.release()
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(page))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != string(page) {
		t.Fatalf("after release: %v; got %d bytes equal=%v", err, len(got), string(got) == string(page))
	}
	if _, err := pc.Write([]byte("next")); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, 4)
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "next" {
		t.Fatalf("a write after release: %q, %v", got, err)
	}
}

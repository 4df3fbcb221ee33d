package main

import (
	"strings"
	"testing"
)

// feedAll runs each server message through w as the raw subscribers do and returns the
// payloads handed on and the answers sent back.
func feedAll(t *testing.T, w *wireState, msgs ...string) (payloads, replies []string) {
	t.Helper()
	for _, m := range msgs {
		b := []byte(m)
		for len(b) > 0 {
			var one []byte
			one, b = w.next(b)
			p, r := w.handle(one)
			if w.err != nil {
				t.Fatalf("%q: %v", one, w.err)
			}
			if p != nil {
				payloads = append(payloads, string(p))
			}
			if r != nil {
				replies = append(replies, string(r))
			}
		}
	}
	return payloads, replies
}

func TestSocketIOHandshakePingAndEvents(t *testing.T) {
	w := newWire(wireSocketIO, "c0")
	if w.hello() != nil {
		t.Fatal("Socket.IO: the client waits for the open packet")
	}
	_, r := feedAll(t, w, `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	if len(r) != 1 || r[0] != "40" || w.ready {
		t.Fatalf("after open: replies %q, ready %v", r, w.ready)
	}
	feedAll(t, w, `40{"sid":"def"}`)
	if !w.ready {
		t.Fatal("not ready after 40{sid}")
	}
	p, r := feedAll(t, w, "2", `42["msg","M 7 123 xx"]`, `42["msg","a \"q\" b"]`)
	if strings.Join(r, ",") != "3" || len(p) != 2 || p[0] != "M 7 123 xx" || p[1] != `a "q" b` {
		t.Fatalf("payloads %q replies %q", p, r)
	}
	if got := string(w.publish([]byte("M 1 2 x"))); got != `42["msg","M 1 2 x"]` {
		t.Fatalf("publish: %s", got)
	}
	w.handle([]byte(`44{"message":"nope"}`))
	if w.err == nil {
		t.Fatal("a refused connect is not an error")
	}
}

func TestCentrifugoConnectSubscribePushAndPublish(t *testing.T) {
	w := newWire(wireCentrifugo, "c0")
	if got := string(w.hello()); got != `{"id":1,"connect":{}}` {
		t.Fatalf("hello: %s", got)
	}
	_, r := feedAll(t, w, `{"id":1,"connect":{"client":"x","version":"6.9.1","ping":25,"pong":true}}`)
	if len(r) != 1 || r[0] != `{"id":2,"subscribe":{"channel":"c0"}}` || w.ready {
		t.Fatalf("after connect: replies %q, ready %v", r, w.ready)
	}
	// Several replies in one WebSocket message, a line each.
	p, r := feedAll(t, w, "{\"id\":2,\"subscribe\":{}}\n{}\n"+
		`{"push":{"channel":"c0","pub":{"data":"M 3 456 xx","offset":5}}}`)
	if !w.ready || len(p) != 1 || p[0] != "M 3 456 xx" || len(r) != 1 || r[0] != "{}" {
		t.Fatalf("ready %v payloads %q replies %q", w.ready, p, r)
	}
	if got := string(w.publish([]byte("S"))); got != `{"id":3,"publish":{"channel":"c0","data":"S"}}` {
		t.Fatalf("publish: %s", got)
	}
	w.handle([]byte(`{"id":4,"error":{"code":103,"message":"permission denied"}}`))
	if w.err == nil || !strings.Contains(w.err.Error(), "permission denied") {
		t.Fatalf("error reply: %v", w.err)
	}
}

package main

// Application protocols inside WebSocket messages, for the cluster peers of scenario 8 that do
// not carry a channel's messages as bare WebSocket messages:
//
//   - Socket.IO (Engine.IO v4 over the websocket transport, no polling first): the server opens
//     with `0{"sid":…,"pingInterval":…}`, the client connects to the main namespace with `40`, the
//     server answers `40{"sid":…}`; the server pings with `2`, the client answers `3`; an event is
//     `42["msg",PAYLOAD]` both ways (PAYLOAD a JSON string).
//   - Centrifugo's JSON protocol (/connection/websocket): commands `{"id":N,"connect":{}}` and
//     `{"id":N,"subscribe":{"channel":C}}`, each answered by a reply with the same id; a
//     publication arrives as `{"push":{"channel":C,"pub":{"data":PAYLOAD}}}`; the server pings
//     with `{}`, the client answers `{}`; a client publishes with
//     `{"id":N,"publish":{"channel":C,"data":PAYLOAD}}`. One WebSocket message may hold several
//     of these, one per line.
//
// The same state machine serves the raw subscribers (raw.go) and the gorilla publishers: each
// incoming message goes through handle, which answers control packets and hands back the
// payload of a publication, so counting and latency are measured exactly as for bare messages.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

type wireKind int

const (
	wirePlain      wireKind = iota // the message is the payload (every other peer)
	wireSocketIO                   // Socket.IO 4 / Engine.IO 4
	wireCentrifugo                 // Centrifugo's JSON protocol
)

// wireProto is what the fan-out's clients speak (flag -wire).
var wireProto = wirePlain

func parseWire(s string) (wireKind, error) {
	switch s {
	case "plain", "":
		return wirePlain, nil
	case "socketio":
		return wireSocketIO, nil
	case "centrifugo":
		return wireCentrifugo, nil
	}
	return 0, fmt.Errorf("-wire must be plain, socketio or centrifugo, not %q", s)
}

// wireState is one connection's side of the protocol.
type wireState struct {
	kind    wireKind
	channel string // Centrifugo: the channel subscribed to
	ready   bool   // connected (and, for Centrifugo, subscribed)
	nextID  int    // Centrifugo: the id of the next command
	err     error
}

func newWire(kind wireKind, channel string) *wireState {
	return &wireState{kind: kind, channel: channel, nextID: 1}
}

var (
	sioConnect  = []byte("40")
	sioPong     = []byte("3")
	centPong    = []byte("{}")
	sioEventPre = []byte(`42["msg",`)
	centPushPre = []byte(`{"push":`)
	centDataKey = []byte(`"data":`)
)

// hello is what the client sends first, before the server has said anything (nil: nothing).
func (w *wireState) hello() []byte {
	if w.kind == wireCentrifugo {
		return w.command("connect", "{}")
	}
	return nil
}

func (w *wireState) command(name, body string) []byte {
	b := []byte(`{"id":` + strconv.Itoa(w.nextID) + `,"` + name + `":` + body + `}`)
	w.nextID++
	return b
}

// next splits one WebSocket message into the protocol's messages: Centrifugo puts several in one,
// a line each; Socket.IO one.
func (w *wireState) next(m []byte) (one, rest []byte) {
	if w.kind == wireCentrifugo {
		if i := bytes.IndexByte(m, '\n'); i >= 0 {
			return m[:i], m[i+1:]
		}
	}
	return m, nil
}

// handle takes one protocol message: it returns the payload of a publication (nil if it was not
// one), and what to send back (nil if nothing). A protocol error sets w.err.
func (w *wireState) handle(m []byte) (payload, reply []byte) {
	if len(m) == 0 {
		return nil, nil
	}
	if w.kind == wireSocketIO {
		switch {
		case bytes.HasPrefix(m, sioEventPre) && m[len(m)-1] == ']':
			return jsonString(m[len(sioEventPre):len(m)-1], &w.err), nil
		case m[0] == '2': // ping
			return nil, sioPong
		case m[0] == '0': // open
			return nil, sioConnect
		case len(m) >= 2 && m[0] == '4' && m[1] == '0': // connected to the namespace
			w.ready = true
		case len(m) >= 2 && m[0] == '4' && m[1] == '4':
			w.err = fmt.Errorf("socket.io connect refused: %s", m)
		case m[0] == '1':
			w.err = errors.New("engine.io close packet")
		}
		return nil, nil
	}
	// Centrifugo.
	if bytes.HasPrefix(m, centPushPre) {
		if i := bytes.Index(m, centDataKey); i >= 0 && bytes.Contains(m[:i], []byte(`"pub":`)) {
			return jsonString(stringAt(m[i+len(centDataKey):]), &w.err), nil
		}
		if bytes.Contains(m, []byte(`"disconnect":`)) {
			w.err = fmt.Errorf("centrifugo disconnect: %s", m)
		}
		return nil, nil
	}
	if string(m) == "{}" {
		return nil, centPong
	}
	var r struct {
		ID    int `json:"id"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Connect   json.RawMessage `json:"connect"`
		Subscribe json.RawMessage `json:"subscribe"`
	}
	if err := json.Unmarshal(m, &r); err != nil {
		w.err = fmt.Errorf("centrifugo: %v in %q", err, m)
		return nil, nil
	}
	switch {
	case r.Error != nil:
		w.err = fmt.Errorf("centrifugo reply %d: error %d %s", r.ID, r.Error.Code, r.Error.Message)
	case r.Connect != nil:
		ch, _ := json.Marshal(w.channel)
		return nil, w.command("subscribe", `{"channel":`+string(ch)+`}`)
	case r.Subscribe != nil:
		w.ready = true
	}
	return nil, nil // publish replies and the like
}

// stringAt is the JSON string (quotes included) that s starts with, or s if it starts with none.
func stringAt(s []byte) []byte {
	if len(s) == 0 || s[0] != '"' {
		return s
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i+1]
		}
	}
	return s
}

// jsonString is the value of the JSON string s (quotes included); without escapes, a slice of s.
func jsonString(s []byte, errp *error) []byte {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		*errp = fmt.Errorf("payload is not a JSON string: %.60q", s)
		return nil
	}
	if bytes.IndexByte(s, '\\') < 0 {
		return s[1 : len(s)-1]
	}
	var v string
	if err := json.Unmarshal(s, &v); err != nil {
		*errp = err
		return nil
	}
	return []byte(v)
}

// publish wraps a payload as the protocol publishes it to the connection's channel.
func (w *wireState) publish(p []byte) []byte {
	q, _ := json.Marshal(string(p))
	switch w.kind {
	case wireSocketIO:
		return append(append(append([]byte(nil), sioEventPre...), q...), ']')
	case wireCentrifugo:
		ch, _ := json.Marshal(w.channel)
		return w.command("publish", `{"channel":`+string(ch)+`,"data":`+string(q)+`}`)
	}
	return p
}

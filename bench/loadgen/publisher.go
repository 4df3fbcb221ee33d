package main

// Fan-out publishers: gorilla connections subscribed to their channel. What the server sends
// back is read and dropped, but for the answers a protocol needs (Socket.IO's and Centrifugo's
// pings, wire.go), sent under the same lock as the publications.

import (
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

type publisher struct {
	c    *websocket.Conn
	mu   sync.Mutex // one writer at a time: publications and protocol answers
	wire *wireState // nil: bare messages
}

// dialPublisher connects to u (ws://…?channel=NAME) and, in a protocol, connects and subscribes.
func dialPublisher(u string, deflate bool) (*publisher, error) {
	dial := wsDial
	if deflate {
		dial = wsDialDeflate
	}
	c, err := dial(u)
	if err != nil {
		return nil, err
	}
	p := &publisher{c: c}
	if wireProto == wirePlain {
		return p, nil
	}
	pu, _ := url.Parse(u)
	p.wire = newWire(wireProto, pu.Query().Get("channel"))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if h := p.wire.hello(); h != nil {
		if err := c.WriteMessage(websocket.TextMessage, h); err != nil {
			c.Close()
			return nil, err
		}
	}
	for !p.wire.ready {
		_, m, err := c.ReadMessage()
		if err == nil {
			err = p.take(m)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("protocol handshake: %v", err)
		}
	}
	c.SetReadDeadline(time.Time{})
	return p, nil
}

// take handles one incoming message of the protocol: answers what needs an answer.
func (p *publisher) take(m []byte) error {
	for len(m) > 0 {
		var one []byte
		one, m = p.wire.next(m)
		_, reply := p.wire.handle(one)
		if p.wire.err != nil {
			return p.wire.err
		}
		if reply != nil {
			p.mu.Lock()
			err := p.c.WriteMessage(websocket.TextMessage, reply)
			p.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// drain reads what the server sends until the connection ends.
func (p *publisher) drain() {
	for {
		if p.wire == nil {
			if _, _, err := p.c.NextReader(); err != nil {
				return
			}
			continue
		}
		_, m, err := p.c.ReadMessage()
		if err != nil || p.take(m) != nil {
			return
		}
	}
}

// send publishes one payload to the publisher's channel.
func (p *publisher) send(payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wire != nil {
		payload = p.wire.publish(payload) // under the lock: a command id is taken
	}
	return p.c.WriteMessage(websocket.TextMessage, payload)
}

func (p *publisher) close() { p.c.Close() }

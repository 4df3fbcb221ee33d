// Peer of ssews' benchmark (bench/run): an echo or broadcast WebSocket server on
// gorilla/websocket.
//
//	go_gorilla -port P [-host H] [-echo]
//
// Same semantics as `ssews serve`: -echo sends each message back to its sender; otherwise a
// client joins the channel of its `channel` query parameter and each message it sends goes to
// every member of that channel (the sender too). The broadcast follows gorilla's chat example:
// a buffered send queue and a writer goroutine per connection; a member whose queue is full
// misses the message (as ssews' drop policy would). Compression off.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

type msg struct {
	typ  int
	data []byte
}

type client struct {
	conn *websocket.Conn
	send chan msg
}

type hub struct {
	mu    sync.RWMutex
	chans map[string]map[*client]struct{}
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:    4096,
	WriteBufferSize:   4096,
	EnableCompression: false,
	CheckOrigin:       func(*http.Request) bool { return true },
}

func echoConn(c *websocket.Conn) {
	defer c.Close()
	for {
		t, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(t, b); err != nil {
			return
		}
	}
}

func (h *hub) serve(c *websocket.Conn, name string) {
	cl := &client{conn: c, send: make(chan msg, 256)}
	h.mu.Lock()
	m := h.chans[name]
	if m == nil {
		m = map[*client]struct{}{}
		h.chans[name] = m
	}
	m[cl] = struct{}{}
	h.mu.Unlock()
	go func() { // writer
		for m := range cl.send {
			if err := c.WriteMessage(m.typ, m.data); err != nil {
				c.Close()
				for range cl.send {
				}
				return
			}
		}
	}()
	for {
		t, b, err := c.ReadMessage()
		if err != nil {
			break
		}
		h.mu.RLock()
		for o := range h.chans[name] {
			select {
			case o.send <- msg{t, b}:
			default: // full: this member misses the message
			}
		}
		h.mu.RUnlock()
	}
	h.mu.Lock()
	delete(h.chans[name], cl)
	h.mu.Unlock()
	close(cl.send)
	c.Close()
}

func main() {
	host := flag.String("host", "127.0.0.1", "address")
	port := flag.Int("port", 8080, "port")
	echo := flag.Bool("echo", false, "echo instead of broadcast")
	flag.Parse()
	h := &hub{chans: map[string]map[*client]struct{}{}}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if *echo {
			echoConn(c)
		} else {
			h.serve(c, r.URL.Query().Get("channel"))
		}
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("go_gorilla serving on http://%s:%d/\n", *host, *port)
	log.Fatal(http.Serve(ln, nil))
}

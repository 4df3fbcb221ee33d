// Peer of ssews' benchmark (bench/run): an echo or broadcast WebSocket server on lxzan/gws.
//
//	go_gws -port P [-host H] [-echo]
//
// Same semantics as `ssews serve`: -echo sends each message back to its sender; otherwise a
// client joins the channel of its `channel` query parameter and each message it sends goes to
// every member of that channel (the sender too), through gws' Broadcaster (one frame, shared).
// Compression off, UTF-8 checked, messages handled in each connection's read loop.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"

	"github.com/lxzan/gws"
)

type hub struct {
	gws.BuiltinEventHandler
	echo  bool
	mu    sync.RWMutex
	chans map[string]map[*gws.Conn]struct{}
}

func (h *hub) channel(s *gws.Conn) string {
	v, _ := s.Session().Load("channel")
	name, _ := v.(string)
	return name
}

func (h *hub) OnOpen(s *gws.Conn) {
	if h.echo {
		return
	}
	name := h.channel(s)
	h.mu.Lock()
	m := h.chans[name]
	if m == nil {
		m = map[*gws.Conn]struct{}{}
		h.chans[name] = m
	}
	m[s] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) OnClose(s *gws.Conn, err error) {
	if h.echo {
		return
	}
	h.mu.Lock()
	delete(h.chans[h.channel(s)], s)
	h.mu.Unlock()
}

func (h *hub) OnMessage(s *gws.Conn, m *gws.Message) {
	defer m.Close()
	if h.echo {
		s.WriteMessage(m.Opcode, m.Bytes())
		return
	}
	b := gws.NewBroadcaster(m.Opcode, m.Bytes())
	defer b.Close()
	h.mu.RLock()
	for c := range h.chans[h.channel(s)] {
		b.Broadcast(c)
	}
	h.mu.RUnlock()
}

func main() {
	host := flag.String("host", "127.0.0.1", "address")
	port := flag.Int("port", 8080, "port")
	echo := flag.Bool("echo", false, "echo instead of broadcast")
	flag.Parse()
	h := &hub{echo: *echo, chans: map[string]map[*gws.Conn]struct{}{}}
	up := gws.NewUpgrader(h, &gws.ServerOption{
		PermessageDeflate: gws.PermessageDeflate{Enabled: false},
		CheckUtf8Enabled:  true,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		s.Session().Store("channel", r.URL.Query().Get("channel"))
		go s.ReadLoop() // calls OnOpen first
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("go_gws serving on http://%s:%d/\n", *host, *port)
	log.Fatal(http.Serve(ln, mux))
}

package main

// TLS for the raw clients (wss:// and https:// URLs), for measuring servers' TLS (bench/tls/run).
// A TLS connection cannot be read on a bare descriptor, so each one gets a goroutine reading its
// tls.Conn (Go's netpoller underneath) and feeding the same parser as the epoll poller. The
// callbacks the modes pass use atomics or per-connection state only, so this is safe. TLS costs
// the load generator more per message than the plain poller: watch loadgen_cpu.
//
// Certificates are not verified (the bench uses a throw-away self-signed one); ALPN offers
// http/1.1 only, as a browser's WebSocket or EventSource over HTTP/1.1 does.

import (
	"crypto/tls"
	"sync/atomic"
)

func rawTLSConfig(host string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"http/1.1"}}
}

func startTLSReaders(conns []*rawConn, stop *atomic.Bool, onMsg func(c *rawConn, m []byte), onClose func(c *rawConn)) *poller {
	p := &poller{conns: conns, stop: stop, tls: true, epfd: -1}
	for _, c := range conns {
		c.z = &inflater{} // one per connection: the readers run concurrently
		p.tlsWG.Add(1)
		go func(c *rawConn) {
			defer p.tlsWG.Done()
			buf := make([]byte, 16*1024)
			for {
				n, err := c.tc.Read(buf)
				if n > 0 && !c.closed {
					p.bytesIn.Add(int64(n))
					c.feed(buf[:n], onMsg)
					if len(c.out) > 0 && !c.closed {
						if werr := c.write(c.out); werr != nil {
							c.fail(werr)
						}
						c.out = c.out[:0]
					}
				}
				if err != nil && !c.closed {
					c.fail(err)
				}
				if c.closed {
					if !p.stop.Load() {
						onClose(c)
					}
					return
				}
			}
		}(c)
	}
	return p
}

package main

// Raw clients: WebSocket and SSE connections read by one goroutine on epoll, with no
// per-connection goroutine, buffered reader or allocation per message. The echo clients and the
// fan-out subscribers run on these so that the load generator spends far less CPU per message
// than any server it measures (with a goroutine per gorilla connection it needed ~8 µs per
// delivery, as much as the servers, and every server then measured the load generator).
//
// Handshakes are done in full (Sec-WebSocket-Accept checked, SSE status and Content-Type
// checked, chunked SSE bodies decoded); frames are parsed strictly enough to measure (server
// frames unmasked or masked, fragments joined, pings answered, close ends the connection).

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type rawConn struct {
	fd int
	// wss:// and https:// (TLS, tls.go): the connection is this tls.Conn, read by a goroutine of
	// its own instead of epoll (fd is -1).
	tc   *tls.Conn
	sse  bool
	mask [4]byte
	in   []byte // bytes read but not yet parsed (a partial frame or line)
	out  []byte // replies queued while parsing one read, sent in one write after it
	msg  []byte // WebSocket: a fragmented message being joined
	// SSE over chunked transfer encoding: bytes left in the current chunk, or -1 while a chunk
	// header is expected; chunked == false for an identity body.
	chunked   bool
	chunkLeft int
	chunkHdr  []byte
	closed    bool
	err       error
	tag       int  // the mode's index of this connection
	synced    bool // fan-out: has had a synchronisation message
	// permessage-deflate: negotiated (pmd), the message being joined is compressed (msgRSV1),
	// and the inflater of the poller reading this connection (z).
	pmd     bool
	msgRSV1 bool
	z       *inflater
	// Socket.IO or Centrifugo inside the WebSocket messages (wire.go); nil: bare messages.
	wire *wireState
}

// offerDeflate makes WebSocket subscribers offer permessage-deflate as gorilla's Dialer with
// EnableCompression does: no context takeover either way, the only mode gorilla supports.
var offerDeflate bool

const deflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// inflater inflates whole permessage-deflate messages (RFC 7692 7.2.2); with no server context
// takeover each message stands alone, so one inflater serves every connection of a poller.
type inflater struct {
	src bytes.Reader
	fr  io.ReadCloser
	in  []byte
	out []byte
}

// The 00 00 ff ff the sender removed, then an empty final stored block so the reader sees the
// end of the stream (gorilla's way).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

func (z *inflater) inflate(p []byte) ([]byte, error) {
	z.in = append(append(z.in[:0], p...), deflateTail...)
	z.src.Reset(z.in)
	if z.fr == nil {
		z.fr = flate.NewReader(&z.src)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, nil); err != nil {
		return nil, err
	}
	z.out = z.out[:0]
	for {
		if len(z.out) == cap(z.out) {
			z.out = append(z.out, 0)[:len(z.out)]
		}
		n, err := z.fr.Read(z.out[len(z.out):cap(z.out)])
		z.out = z.out[:len(z.out)+n]
		if err == io.EOF {
			return z.out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("inflate: %v", err)
		}
	}
}

// deflateAgreed reports whether a Sec-WebSocket-Extensions answer accepted our offer; like
// gorilla, it insists on no context takeover both ways (each message inflated on its own).
func deflateAgreed(h http.Header) (bool, error) {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(v, ",") {
			params := strings.Split(ext, ";")
			if strings.TrimSpace(params[0]) != "permessage-deflate" {
				continue
			}
			snct, cnct := false, false
			for _, q := range params[1:] {
				switch strings.TrimSpace(q) {
				case "server_no_context_takeover":
					snct = true
				case "client_no_context_takeover":
					cnct = true
				}
			}
			if !snct || !cnct {
				return false, fmt.Errorf("permessage-deflate answered without no_context_takeover both ways: %q", v)
			}
			return true, nil
		}
	}
	return false, nil
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// rawDial connects to raw (ws:// for WebSocket, http:// for SSE) and completes the handshake.
func rawDial(sse bool, raw string) (*rawConn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	tcp, err := dialTCP(context.Background(), "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	nc := tcp
	var tc *tls.Conn
	if u.Scheme == "wss" || u.Scheme == "https" {
		tc = tls.Client(tcp, rawTLSConfig(u.Hostname()))
		nc = tc
	}
	keep := false
	defer func() {
		if !keep {
			tcp.Close() // plain: the connection continues on a duplicate of its descriptor
		}
	}()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawConn{sse: sse, tc: tc, fd: -1}
	var key string
	var req string
	if sse {
		req = "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
			"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
	} else {
		var k [16]byte
		rand.Read(k[:])
		rand.Read(c.mask[:])
		key = base64.StdEncoding.EncodeToString(k[:])
		req = "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\n"
		if offerDeflate {
			req += "Sec-WebSocket-Extensions: " + deflateOffer + "\r\n"
		}
		req += "\r\n"
	}
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	if sse {
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("SSE: HTTP %d", resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			return nil, fmt.Errorf("SSE: Content-Type %q", ct)
		}
		if len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked" {
			c.chunked, c.chunkLeft = true, -1
		}
	} else {
		if resp.StatusCode != 101 {
			return nil, fmt.Errorf("WebSocket handshake: HTTP %d", resp.StatusCode)
		}
		sum := sha1.Sum([]byte(key + wsGUID))
		if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
			return nil, errors.New("WebSocket handshake: bad Sec-WebSocket-Accept")
		}
		if c.pmd, err = deflateAgreed(resp.Header); err != nil {
			return nil, err
		}
		if offerDeflate && !c.pmd {
			return nil, errors.New("WebSocket handshake: permessage-deflate offered, not accepted")
		}
	}
	// What the reader holds beyond the response head is the start of the stream.
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		c.in = append(c.in, b...)
	}
	if !sse && wireProto != wirePlain {
		c.wire = newWire(wireProto, u.Query().Get("channel"))
		if err := c.wireHandshake(nc); err != nil {
			return nil, err
		}
	}
	if tc != nil {
		tc.SetDeadline(time.Time{})
		keep = true
		return c, nil
	}
	f, err := nc.(*net.TCPConn).File()
	if err != nil {
		return nil, err
	}
	c.fd, err = syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(c.fd, true); err != nil {
		syscall.Close(c.fd)
		return nil, err
	}
	return c, nil
}

// wireHandshake connects (and subscribes) in the protocol of c.wire over nc, blocking, before the
// connection goes to a poller: the server's first messages may already be in c.in.
func (c *rawConn) wireHandshake(nc net.Conn) error {
	if h := c.wire.hello(); h != nil {
		c.out = append(c.out, c.frame(0x1, h)...)
	}
	drop := func(*rawConn, []byte) {} // no publication is due before the subscription is in place
	buf := make([]byte, 4096)
	var b []byte // nothing new the first time: what the HTTP reader held is parsed
	for {
		c.feed(b, drop)
		if len(c.out) > 0 && !c.closed {
			if _, err := nc.Write(c.out); err != nil {
				return err
			}
			c.out = c.out[:0]
		}
		if c.closed {
			return fmt.Errorf("protocol handshake: %v", c.err)
		}
		if c.wire.ready {
			return nil
		}
		n, err := nc.Read(buf)
		if err != nil {
			return fmt.Errorf("protocol handshake: %v", err)
		}
		b = buf[:n]
	}
}

// frame builds a masked client frame (FIN set) with this connection's mask key.
func (c *rawConn) frame(op byte, payload []byte) []byte {
	n := len(payload)
	b := make([]byte, 0, n+14)
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 65536:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	b = append(b, c.mask[:]...)
	for i, x := range payload {
		b = append(b, x^c.mask[i&3])
	}
	return b
}

// write sends all of b; the socket buffer is never near full at the sizes the harness sends,
// so a short write is reported rather than queued.
func (c *rawConn) write(b []byte) error {
	if c.tc != nil {
		_, err := c.tc.Write(b)
		return err
	}
	for len(b) > 0 {
		n, err := syscall.Write(c.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return errors.New("socket send buffer full")
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (c *rawConn) close() {
	if c.tc != nil {
		c.tc.NetConn().Close() // no close_notify: the run is over
	}
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

// feed parses newly read bytes, calling onMsg with each message (WebSocket) or each data line
// (SSE). The slice passed is valid only during the call.
func (c *rawConn) feed(b []byte, onMsg func(c *rawConn, m []byte)) {
	if c.sse && c.chunked {
		b = c.dechunk(b)
	}
	if len(c.in) > 0 {
		c.in = append(c.in, b...)
		b = c.in
	}
	var used int
	if c.sse {
		used = c.parseSSE(b, onMsg)
	} else {
		used = c.parseWS(b, onMsg)
	}
	rest := b[used:]
	if len(rest) == 0 {
		c.in = c.in[:0]
	} else if len(c.in) > 0 {
		c.in = append(c.in[:0], rest...) // overlapping copy forward is safe with append
	} else {
		c.in = append(c.in, rest...)
	}
}

func (c *rawConn) parseWS(b []byte, onMsg func(c *rawConn, m []byte)) int {
	used := 0
	for !c.closed {
		p := b[used:]
		if len(p) < 2 {
			break
		}
		fin, op, rsv1 := p[0]&0x80 != 0, p[0]&0x0f, p[0]&0x40 != 0
		if rsv1 && (!c.pmd || op == 0 || op >= 0x8) {
			c.fail(errors.New("frame with RSV1 set where permessage-deflate does not allow it"))
			break
		}
		masked := p[1]&0x80 != 0
		n, h := int(p[1]&0x7f), 2
		if n == 126 {
			if len(p) < 4 {
				break
			}
			n, h = int(p[2])<<8|int(p[3]), 4
		} else if n == 127 {
			if len(p) < 10 {
				break
			}
			n = 0
			for i := 2; i < 10; i++ {
				n = n<<8 | int(p[i])
			}
			h = 10
		}
		var key []byte
		if masked {
			if len(p) < h+4 {
				break
			}
			key, h = p[h:h+4], h+4
		}
		if len(p) < h+n {
			break
		}
		pl := p[h : h+n]
		if masked {
			for i := range pl {
				pl[i] ^= key[i&3]
			}
		}
		used += h + n
		switch op {
		case 0x9: // ping: answer with its payload
			c.out = append(c.out, c.frame(0xA, pl)...)
		case 0xA: // pong
		case 0x8:
			c.fail(io.EOF)
		case 0x0, 0x1, 0x2:
			if op != 0 {
				c.msgRSV1 = rsv1
			}
			if fin && op != 0 && len(c.msg) == 0 {
				c.deliver(pl, onMsg)
			} else {
				c.msg = append(c.msg, pl...)
				if fin {
					c.deliver(c.msg, onMsg)
					c.msg = c.msg[:0]
				}
			}
		default:
			c.fail(fmt.Errorf("frame with opcode %d", op))
		}
	}
	return used
}

// deliver hands a whole message to onMsg, inflated first if it was compressed.
func (c *rawConn) deliver(m []byte, onMsg func(c *rawConn, m []byte)) {
	if c.wire != nil { // the protocol's messages: control ones answered, publications' payloads on
		for len(m) > 0 {
			var one []byte
			one, m = c.wire.next(m)
			p, reply := c.wire.handle(one)
			if reply != nil {
				c.out = append(c.out, c.frame(0x1, reply)...)
			}
			if c.wire.err != nil {
				c.fail(c.wire.err)
				return
			}
			if p != nil {
				onMsg(c, p)
			}
		}
		return
	}
	if c.msgRSV1 {
		var err error
		if m, err = c.z.inflate(m); err != nil {
			c.fail(err)
			return
		}
	}
	onMsg(c, m)
}

// parseSSE hands over each "data:" line's value (the harness sends one-line payloads).
func (c *rawConn) parseSSE(b []byte, onMsg func(c *rawConn, m []byte)) int {
	used := 0
	for {
		p := b[used:]
		i := 0
		for i < len(p) && p[i] != '\n' && p[i] != '\r' {
			i++
		}
		if i == len(p) {
			return used
		}
		line := p[:i]
		end := i + 1
		if p[i] == '\r' {
			if i+1 == len(p) {
				return used // may be CRLF split across reads
			}
			if p[i+1] == '\n' {
				end++
			}
		}
		used += end
		if len(line) >= 5 && string(line[:5]) == "data:" {
			v := line[5:]
			if len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			onMsg(c, v)
		}
	}
}

// dechunk strips HTTP/1.1 chunked framing from b, returning the body bytes in it.
func (c *rawConn) dechunk(b []byte) []byte {
	out := b[:0] // the body is never longer than its framing: decode in place
	for len(b) > 0 {
		if c.chunkLeft > 0 {
			k := c.chunkLeft
			if k > len(b) {
				k = len(b)
			}
			out = append(out, b[:k]...)
			b, c.chunkLeft = b[k:], c.chunkLeft-k
			if c.chunkLeft == 0 {
				c.chunkLeft = -2 // the CRLF after the data
			}
			continue
		}
		// A chunk header "HEX[;ext]\r\n", or the CRLF ending a chunk's data.
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		c.chunkHdr = append(c.chunkHdr, b[:i]...)
		if i == len(b) {
			break
		}
		b = b[i+1:]
		hdr := strings.TrimRight(string(c.chunkHdr), "\r")
		c.chunkHdr = c.chunkHdr[:0]
		if c.chunkLeft == -2 {
			c.chunkLeft = -1
			continue
		}
		if j := strings.IndexByte(hdr, ';'); j >= 0 {
			hdr = hdr[:j]
		}
		n, err := strconv.ParseInt(strings.TrimSpace(hdr), 16, 64)
		if err != nil {
			c.fail(fmt.Errorf("bad chunk header %q", hdr))
			break
		}
		if n == 0 {
			c.fail(io.EOF) // the body ended
			break
		}
		c.chunkLeft = int(n)
	}
	return out
}

func (c *rawConn) fail(err error) {
	if !c.closed {
		c.closed, c.err = true, err
	}
}

// poller reads a set of raw connections on one epoll instance until stop is set.
type poller struct {
	epfd    int
	conns   []*rawConn
	stop    *atomic.Bool
	done    chan struct{}
	z       inflater     // for every connection of this poller (one goroutine)
	bytesIn atomic.Int64 // what the connections' sockets read: bytes on the wire, frames included
	// (over TLS: what TLS decrypted, frames included, records not)
	tls   bool           // TLS connections: a reading goroutine each (runTLS), no epoll
	tlsWG sync.WaitGroup // those goroutines
}

// startPoller services conns on a goroutine of its own, calling onMsg per message and onClose
// once per connection that ends (by the peer, an error or a close frame), until stop is set;
// finish stops it and closes the connections.
func startPoller(conns []*rawConn, stop *atomic.Bool, onMsg func(c *rawConn, m []byte), onClose func(c *rawConn)) *poller {
	if len(conns) > 0 && conns[0].tc != nil {
		return startTLSReaders(conns, stop, onMsg, onClose)
	}
	p, err := newPoller(conns)
	if err != nil {
		fatalf("epoll: %v", err)
	}
	p.stop, p.done = stop, make(chan struct{})
	go func() {
		defer close(p.done)
		p.run(onMsg, onClose)
	}()
	return p
}

func (p *poller) finish() {
	p.stop.Store(true)
	if p.tls {
		p.close() // wakes the readers
		p.tlsWG.Wait()
		return
	}
	<-p.done
	p.close()
}

func newPoller(conns []*rawConn) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	for i, c := range conns {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(i)}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			syscall.Close(epfd)
			return nil, err
		}
	}
	p := &poller{epfd: epfd, conns: conns}
	for _, c := range conns {
		c.z = &p.z
	}
	return p, nil
}

func (p *poller) run(onMsg func(c *rawConn, m []byte), onClose func(c *rawConn)) {
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64*1024)
	for !p.stop.Load() {
		n, err := syscall.EpollWait(p.epfd, events, 50)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fatalf("epoll_wait: %v", err)
		}
		for _, ev := range events[:n] {
			c := p.conns[ev.Fd]
			if c.closed {
				continue
			}
			r, err := syscall.Read(c.fd, buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			if r > 0 {
				p.bytesIn.Add(int64(r))
				c.feed(buf[:r], onMsg)
				if len(c.out) > 0 && !c.closed {
					if err := c.write(c.out); err != nil {
						c.fail(err)
					}
					c.out = c.out[:0]
				}
			} else if err != nil {
				c.fail(err)
			} else {
				c.fail(io.EOF)
			}
			if c.closed {
				syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
				onClose(c)
			}
		}
	}
}

func (p *poller) close() {
	if !p.tls {
		syscall.Close(p.epfd)
	}
	for _, c := range p.conns {
		c.close()
	}
}

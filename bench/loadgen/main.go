// Command loadgen is the load generator of ssews' benchmark harness (bench/run).
//
// It is deliberately not ssews: a small Go program on the standard library and
// gorilla/websocket, so ssews is never measured by itself. Echo clients, fan-out subscribers and
// idle connections are raw connections on one epoll goroutine (raw.go), cheap enough per message
// that the server, not the load generator, sets the pace; publishers and the ramp use gorilla.
// One mode per run; it prints one JSON object on stdout (progress and errors go to stderr).
//
//	loadgen echo      -url ws://H:P/ -conns N -inflight K -size 64 -warmup 1s -duration 5s
//	loadgen fanout    -base http://H:P/ -proto ws|sse -channels C -subs S -rates r1,r2,... -step 5s [-warmup 2s]
//	                  [-sub-bases http://H:P1/,http://H:P2/]  (subscribers spread over cluster nodes)
//	                  [-payload json] [-deflate]   (JSON documents; subscribers negotiate permessage-deflate)
//	                  [-wire socketio|centrifugo]  (Socket.IO or Centrifugo inside the WebSocket messages)
//	loadgen idle      -base http://H:P/ -proto ws|sse -conns N   (prints READY {...}, holds until stdin closes)
//	loadgen ramp      -url ws://H:P/ -conns N -concurrency C
//	loadgen subscribe -base http://H:P/ -proto ws|sse -subs S -count M   (the server publishes)
//
// Any URL may be TLS instead (wss://, https://; tls.go, for bench/tls/run): certificates are
// not verified. Every client URL is BASE + "?channel=NAME" (echo and ramp use -url as is).
// Client sockets are bound round-robin to the source addresses of -src (default
// 127.0.0.2-127.0.0.9) so that 10k connections per run, run after run, do not exhaust one
// address's ephemeral ports.
//
// Publishers are WebSocket connections subscribed to their channel: what they send, the server
// broadcasts to the channel (chat-room semantics, the same for every server under test). Each
// payload is "M <seq> <stamp> xxx…" with stamp = CLOCK_MONOTONIC in ns, so a server that publishes
// by itself (mode subscribe) can stamp the same way. For each message the time until the last
// subscriber has it is recorded; p50/p99/max of those are reported.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"
)

// ---------------------------------------------------------------------------------------------
// Clock: CLOCK_MONOTONIC in ns (the clock every process on the machine shares), read cheaply
// through Go's own monotonic clock plus an offset calibrated once against the raw system call.

var monoBase = time.Now()
var monoOffset int64

func rawMono() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func calibrateClock() {
	best := int64(math.MaxInt64)
	for i := 0; i < 200; i++ {
		a := time.Since(monoBase)
		r := rawMono()
		b := time.Since(monoBase)
		if d := int64(b - a); d < best {
			best = d
			monoOffset = r - int64(a+b)/2
		}
	}
}

func mono() int64 { return int64(time.Since(monoBase)) + monoOffset }

// ---------------------------------------------------------------------------------------------
// Dialing from spread source addresses.

var srcIPs []net.IP
var srcNext uint32

func parseSrc(s string) {
	if s == "" || s == "none" {
		return
	}
	a, b, ok := strings.Cut(s, "-")
	lo := net.ParseIP(a).To4()
	hi := lo
	if ok {
		hi = net.ParseIP(b).To4()
	}
	if lo == nil || hi == nil || lo[0] != hi[0] || lo[1] != hi[1] || lo[2] != hi[2] || lo[3] > hi[3] {
		fatalf("bad -src %q (want A.B.C.X-A.B.C.Y)", s)
	}
	for x := int(lo[3]); x <= int(hi[3]); x++ {
		srcIPs = append(srcIPs, net.IPv4(lo[0], lo[1], lo[2], byte(x)))
	}
}

func dialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	if len(srcIPs) > 0 {
		i := atomic.AddUint32(&srcNext, 1)
		d.LocalAddr = &net.TCPAddr{IP: srcIPs[int(i)%len(srcIPs)]}
	}
	return d.DialContext(ctx, "tcp", addr)
}

var wsDialer = websocket.Dialer{
	NetDialContext:    dialTCP,
	HandshakeTimeout:  30 * time.Second,
	ReadBufferSize:    4096,
	WriteBufferSize:   4096,
	EnableCompression: false, // compression off everywhere but in wsDialDeflate
	// wss:// (bench/tls/run): the bench's certificate is a throw-away self-signed one.
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
}

func wsDial(u string) (*websocket.Conn, error) {
	c, resp, err := wsDialer.Dial(u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%v (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	return c, nil
}

// wsDialDeflate dials with gorilla's own permessage-deflate offer (EnableCompression) and fails
// unless the server accepted it: the publishers of a -deflate fan-out check so that every server
// under test takes gorilla's offer. They still send uncompressed (the server's work under test is
// compressing what it broadcasts); what comes back to them gorilla inflates.
func wsDialDeflate(u string) (*websocket.Conn, error) {
	d := wsDialer
	d.EnableCompression = true
	c, resp, err := d.Dial(u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%v (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	if ok, err := deflateAgreed(resp.Header); !ok || err != nil {
		c.Close()
		return nil, fmt.Errorf("gorilla's permessage-deflate offer not accepted (%v): %q", err,
			resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	c.EnableWriteCompression(false)
	return c, nil
}

// ---------------------------------------------------------------------------------------------
// Helpers.

func fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", a...)
	os.Exit(2)
}

func logf(f string, a ...any) { fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", a...) }

// mark tells the harness, on a stderr line of its own, that a measured phase starts or ends
// (it samples the server's CPU time there).
func mark(name string) { fmt.Fprintf(os.Stderr, "MARK %s\n", name) }

func emit(v any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func chanURL(base, name string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "channel=" + url.QueryEscape(name)
}

func wsURL(httpURL string) string {
	if strings.HasPrefix(httpURL, "http://") {
		return "ws://" + httpURL[len("http://"):]
	}
	if strings.HasPrefix(httpURL, "https://") {
		return "wss://" + httpURL[len("https://"):]
	}
	return httpURL
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

// parallel runs f(0..n-1) on `workers` goroutines and returns the errors count and first error.
// With failFast, the first error stops the remaining calls (they count as errors).
func parallel(n, workers int, failFast bool, f func(i int) error) (int, error) {
	var next, nerr int64 = -1, 0
	var failed atomic.Bool
	var first atomic.Value
	var wg sync.WaitGroup
	if workers > n {
		workers = n
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				if failFast && failed.Load() {
					atomic.AddInt64(&nerr, 1)
					continue
				}
				if err := f(i); err != nil {
					atomic.AddInt64(&nerr, 1)
					first.CompareAndSwap(nil, err)
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	e, _ := first.Load().(error)
	return int(nerr), e
}

func errString(e error) string {
	if e == nil {
		return ""
	}
	return e.Error()
}

// ---------------------------------------------------------------------------------------------
// Payloads: "M <seq> <stamp> " padded with 'x' to size; "S" for synchronisation messages.

func payload(seq int, stamp int64, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, 'M', ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, stamp, 10)
	b = append(b, ' ')
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

// jsonPayload is a ~size-byte JSON document, different for every message as real feeds are
// (an order-book update: repeated keys and symbols, varying numbers), so that compression
// measures what it would on real traffic, not on padding. It starts {"seq":N,"ts":T, so
// parsePayload finds the sequence number and stamp the same way.
func jsonPayload(seq int, stamp int64, size int) []byte {
	rnd := uint64(seq)*0x9E3779B97F4A7C15 + 1
	next := func(n int) int { // xorshift: cheap, deterministic per message
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		return int(rnd % uint64(n))
	}
	syms := []string{"ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI", "STARK", "WAYNE", "TYRELL"}
	sides := []string{"buy", "sell"}
	b := make([]byte, 0, size+256)
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, stamp, 10)
	b = append(b, `,"type":"book_update","venue":"XNAS","symbol":"`...)
	b = append(b, syms[seq%len(syms)]...)
	b = append(b, `","currency":"USD","levels":[`...)
	base := 10000 + next(90000)
	for i := 0; len(b) < size-120; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"side":"`...)
		b = append(b, sides[i%2]...)
		b = append(b, `","price":`...)
		px := base + (i/2+1)*(1-2*(i%2))*(1+next(25))
		b = strconv.AppendInt(b, int64(px/100), 10)
		b = append(b, '.')
		b = append(b, byte('0'+px%100/10), byte('0'+px%10))
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(1+next(5000)), 10)
		b = append(b, `,"orders":`...)
		b = strconv.AppendInt(b, int64(1+next(40)), 10)
		b = append(b, `,"exchange":"`...)
		b = append(b, syms[next(len(syms))]...)
		b = append(b, `"}`...)
	}
	b = append(b, `],"sequence_gap":false,"snapshot":false,"source":"bench-feed-01","checksum":`...)
	b = strconv.AppendInt(b, int64(next(1<<31)), 10)
	b = append(b, '}')
	return b
}

func parsePayload(b []byte) (seq int, stamp int64, ok bool) {
	if len(b) > 7 && string(b[:7]) == `{"seq":` { // jsonPayload
		b = b[7:]
		i := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			seq = seq*10 + int(b[i]-'0')
			i++
		}
		if i == 0 || len(b) < i+6 || string(b[i:i+6]) != `,"ts":` {
			return 0, 0, false
		}
		j := i + 6
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			stamp = stamp*10 + int64(b[j]-'0')
			j++
		}
		return seq, stamp, j > i+6
	}
	if len(b) < 2 || b[0] != 'M' || b[1] != ' ' {
		return 0, 0, false
	}
	b = b[2:]
	i := 0
	for i < len(b) && b[i] != ' ' {
		seq = seq*10 + int(b[i]-'0')
		i++
	}
	i++
	for i < len(b) && b[i] != ' ' {
		stamp = stamp*10 + int64(b[i]-'0')
		i++
	}
	return seq, stamp, i <= len(b)
}

// tracker records, per message sequence number, how many subscribers have it and when the first
// and the last did.
type tracker struct {
	count []int32
	first []int64
	last  []int64
	stamp []int64
	extra int64 // messages with a sequence number out of range
}

func newTracker(n int) *tracker {
	return &tracker{count: make([]int32, n), first: make([]int64, n), last: make([]int64, n), stamp: make([]int64, n)}
}

func (t *tracker) record(b []byte, now int64) bool {
	seq, stamp, ok := parsePayload(b)
	if !ok {
		return false
	}
	if seq < 0 || seq >= len(t.count) {
		atomic.AddInt64(&t.extra, 1)
		return true
	}
	atomic.StoreInt64(&t.stamp[seq], stamp)
	for {
		old := atomic.LoadInt64(&t.first[seq])
		if (old != 0 && now >= old) || atomic.CompareAndSwapInt64(&t.first[seq], old, now) {
			break
		}
	}
	for {
		old := atomic.LoadInt64(&t.last[seq])
		if now <= old || atomic.CompareAndSwapInt64(&t.last[seq], old, now) {
			break
		}
	}
	atomic.AddInt32(&t.count[seq], 1)
	return true
}

type latencyStats struct {
	Messages   int     `json:"messages"`
	Complete   int     `json:"complete"`
	Expected   int64   `json:"expected_deliveries"`
	Delivered  int64   `json:"delivered"`
	Lost       int64   `json:"lost"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	MeanLastMs float64 `json:"mean_ms"`
	// Time until the first subscriber has a message: what a publish costs
	// before any delivery starts (a server that queues to everyone before it
	// writes to anyone shows it here, not in the time to the last).
	FirstP50Ms float64 `json:"first_p50_ms"`
	FirstP99Ms float64 `json:"first_p99_ms"`
}

// Percentiles and mean cover every message whose send time is known; a message some subscriber
// still lacks when the stats are taken counts with the time elapsed so far (a lower bound).

// stats over sequence numbers [lo, hi), each expected by expect(seq) subscribers.
func (t *tracker) stats(lo, hi int, expect func(int) int) latencyStats {
	var st latencyStats
	var lat, firsts []int64
	var sum int64
	now := mono()
	for s := lo; s < hi; s++ {
		n := int64(atomic.LoadInt32(&t.count[s]))
		e := int64(expect(s))
		st.Messages++
		st.Expected += e
		st.Delivered += n
		stamp := atomic.LoadInt64(&t.stamp[s])
		if f := atomic.LoadInt64(&t.first[s]); n > 0 && f != 0 {
			firsts = append(firsts, f-stamp)
		}
		if n >= e {
			st.Complete++
			d := atomic.LoadInt64(&t.last[s]) - stamp
			lat = append(lat, d)
			sum += d
		} else if stamp != 0 {
			// Not every subscriber has it yet: its time to the last subscriber is at least this.
			lat = append(lat, now-stamp)
			sum += now - stamp
		}
	}
	st.Lost = st.Expected - st.Delivered
	if st.Lost < 0 {
		st.Lost = 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st.P50Ms, st.P99Ms = ms(percentile(lat, .50)), ms(percentile(lat, .99))
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	st.FirstP50Ms, st.FirstP99Ms = ms(percentile(firsts, .50)), ms(percentile(firsts, .99))
	if len(lat) > 0 {
		st.MaxMs = ms(lat[len(lat)-1])
		st.MeanLastMs = ms(sum / int64(len(lat)))
	}
	return st
}

// waitComplete waits until every message in [lo, hi) is complete or the deadline passes.
func (t *tracker) waitComplete(lo, hi int, expect func(int) int, deadline time.Time) {
	for s := lo; s < hi; {
		if int(atomic.LoadInt32(&t.count[s])) >= expect(s) {
			s++
			continue
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------------
// Mode echo: N connections, K messages in flight on each; messages/s of echoes received.

func modeEcho(args []string) {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	u := fs.String("url", "", "ws:// URL of an echo server")
	conns := fs.Int("conns", 1000, "connections")
	inflight := fs.Int("inflight", 1, "messages in flight per connection")
	size := fs.Int("size", 64, "message size in bytes")
	warmup := fs.Duration("warmup", time.Second, "warm-up before measuring")
	dur := fs.Duration("duration", 5*time.Second, "measuring time")
	conc := fs.Int("concurrency", 100, "handshakes at once while connecting")
	src := fs.String("src", "127.0.0.2-127.0.0.9", "source addresses")
	fs.Parse(args)
	parseSrc(*src)

	cs := make([]*rawConn, *conns)
	nerr, first := parallel(*conns, *conc, true, func(i int) error {
		c, err := rawDial(false, *u)
		cs[i] = c
		return err
	})
	if nerr > 0 {
		emit(map[string]any{"error": fmt.Sprintf("%d of %d connections failed: %v", nerr, *conns, first)})
		os.Exit(1)
	}
	msg := []byte(strings.Repeat("e", *size))
	frames := make([][]byte, len(cs)) // each connection's masked frame, built once
	for i, c := range cs {
		frames[i] = c.frame(0x1, msg)
		c.tag = i
	}
	var count, bad int64
	var stop atomic.Bool
	var failures int64
	var firstFail atomic.Value
	failed := func(err error) {
		if !stop.Load() {
			atomic.AddInt64(&failures, 1)
			firstFail.CompareAndSwap(nil, err)
		}
	}
	for i, c := range cs {
		for k := 0; k < *inflight; k++ {
			if err := c.write(frames[i]); err != nil {
				failed(err)
			}
		}
	}
	p := startPoller(cs, &stop, func(c *rawConn, m []byte) {
		if len(m) != *size {
			atomic.AddInt64(&bad, 1)
		}
		atomic.AddInt64(&count, 1)
		c.out = append(c.out, frames[c.tag]...) // the echoes of one read go in one write
	}, func(c *rawConn) { failed(c.err) })
	time.Sleep(*warmup)
	mark("start")
	c0, t0, cpu0 := atomic.LoadInt64(&count), time.Now(), cpuSeconds()
	time.Sleep(*dur)
	c1, t1, cpu1 := atomic.LoadInt64(&count), time.Now(), cpuSeconds()
	mark("end")
	p.finish()
	el := t1.Sub(t0).Seconds()
	ff, _ := firstFail.Load().(error)
	emit(map[string]any{
		"mode": "echo", "conns": *conns, "inflight": *inflight, "size": *size,
		"messages": c1 - c0, "seconds": el, "msgs_per_s": float64(c1-c0) / el,
		"bad_size": bad, "conn_failures": failures, "first_failure": errString(ff),
		"loadgen_cpu": (cpu1 - cpu0) / el,
	})
}

// ---------------------------------------------------------------------------------------------
// Mode fanout: C channels × S subscribers (ws or sse), one WebSocket publisher per channel,
// publishes at each of the given total rates for one step each; stops after the first step whose
// p99 passes -max-p99 or that loses messages (when -stop-on-fail).

type stepResult struct {
	Rate         float64 `json:"rate"`
	Sent         int     `json:"sent"`
	Seconds      float64 `json:"seconds"`
	AchievedRate float64 `json:"achieved_rate"`
	DeliveriesPS float64 `json:"deliveries_per_s"`
	// What the subscribers' sockets read during the step (frames and all; with -deflate,
	// compressed), and the payload bytes of the messages they got (inflated).
	WireBytes     int64   `json:"wire_bytes"`
	PayloadBytes  int64   `json:"payload_bytes"`
	LoadgenCPU    float64 `json:"loadgen_cpu"`
	PubWriteError string  `json:"publish_error,omitempty"`
	Pass          bool    `json:"pass"`
	latencyStats
}

func modeFanout(args []string) {
	fs := flag.NewFlagSet("fanout", flag.ExitOnError)
	base := fs.String("base", "", "http:// base URL; clients connect to BASE?channel=NAME")
	subBases := fs.String("sub-bases", "", "comma-separated base URLs the subscribers are spread over in turn "+
		"(several nodes of a cluster); default: -base")
	proto := fs.String("proto", "ws", "subscriber protocol: ws or sse")
	channels := fs.Int("channels", 1, "channels")
	subs := fs.Int("subs", 1000, "subscribers per channel")
	rates := fs.String("rates", "10", "total publish rates (messages/s), one step each, comma-separated")
	step := fs.Duration("step", 5*time.Second, "duration of one step")
	size := fs.Int("size", 100, "payload size")
	grace := fs.Duration("grace", 2*time.Second, "wait after a step's last publish for deliveries")
	warm := fs.Duration("warmup", 0, "publish at the first rate this long before measuring")
	maxP99 := fs.Duration("max-p99", 250*time.Millisecond, "a step passes while its p99 is at most this")
	stopOnFail := fs.Bool("stop-on-fail", false, "stop after the first step that fails")
	conc := fs.Int("concurrency", 100, "handshakes at once while connecting")
	src := fs.String("src", "127.0.0.2-127.0.0.9", "source addresses")
	syncTimeout := fs.Duration("sync-timeout", 20*time.Second, "time for every subscriber to get a first message")
	payloadKind := fs.String("payload", "pad", "pad (\"M seq stamp xxx…\") or json (a varying ~size-byte JSON document)")
	deflate := fs.Bool("deflate", false, "WebSocket subscribers negotiate permessage-deflate and inflate what they get")
	wireName := fs.String("wire", "plain", "what WebSocket messages carry: plain (the payload), socketio (Socket.IO 4 events "+
		"over Engine.IO 4) or centrifugo (Centrifugo's JSON protocol); wire.go")
	fs.Parse(args)
	parseSrc(*src)
	offerDeflate = *deflate
	var err error
	if wireProto, err = parseWire(*wireName); err != nil {
		fatalf("%v", err)
	}
	if wireProto != wirePlain && (*deflate || *proto != "ws") {
		fatalf("-wire %s goes with -proto ws and without -deflate", *wireName)
	}
	makePayload := payload
	switch *payloadKind {
	case "pad":
	case "json":
		makePayload = jsonPayload
	default:
		fatalf("-payload must be pad or json")
	}
	calibrateClock()
	if *proto != "ws" && *proto != "sse" {
		fatalf("-proto must be ws or sse")
	}
	var rateList []float64
	for _, r := range strings.Split(*rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || v <= 0 {
			fatalf("bad rate %q", r)
		}
		rateList = append(rateList, v)
	}
	nwarm := int(math.Ceil(rateList[0] * warm.Seconds()))
	total := nwarm
	for _, r := range rateList {
		total += int(math.Ceil(r*step.Seconds())) + 1
	}
	tr := newTracker(total)
	nsubs := *channels * *subs
	chanName := func(c int) string { return "c" + strconv.Itoa(c) }
	bases := []string{*base}
	if *subBases != "" {
		bases = strings.Split(*subBases, ",")
	}

	// Subscribers.
	t0 := time.Now()
	ss := make([]*rawConn, nsubs)
	nerr, first := parallel(nsubs, *conc, true, func(i int) error {
		u := chanURL(bases[(i / *channels)%len(bases)], chanName(i%*channels))
		if *proto == "ws" {
			u = wsURL(u)
		}
		s, err := rawDial(*proto == "sse", u)
		ss[i] = s
		return err
	})
	connectS := time.Since(t0).Seconds()
	if nerr > 0 {
		emit(map[string]any{"error": fmt.Sprintf("subscribers failed to connect (stopped at the first failure, %d of %d not connected): %v", nerr, nsubs, first)})
		os.Exit(1)
	}
	// Publishers: WebSocket connections subscribed to their channel.
	pubs := make([]*publisher, *channels)
	for c := range pubs {
		p, err := dialPublisher(wsURL(chanURL(*base, chanName(c))), *deflate)
		if err != nil {
			emit(map[string]any{"error": fmt.Sprintf("publisher %d: %v", c, err)})
			os.Exit(1)
		}
		pubs[c] = p
		go p.drain() // what the server sends back to the publisher is read and dropped
	}
	var synced, unparsed, payloadBytes int64
	var closedEarly int64
	var stopping atomic.Bool
	var firstReadErr atomic.Value
	poll := startPoller(ss, &stopping, func(s *rawConn, b []byte) {
		if len(b) > 0 && b[0] == 'S' {
			if !s.synced {
				s.synced = true
				atomic.AddInt64(&synced, 1)
			}
			return
		}
		if !tr.record(b, mono()) {
			atomic.AddInt64(&unparsed, 1)
		}
		atomic.AddInt64(&payloadBytes, int64(len(b)))
	}, func(s *rawConn) {
		if !stopping.Load() {
			atomic.AddInt64(&closedEarly, 1)
			firstReadErr.CompareAndSwap(nil, s.err)
		}
	})
	// Synchronise: every subscriber has had a message, so every subscription is in place.
	syncStart := time.Now()
	syncSent := 0
	for atomic.LoadInt64(&synced) < int64(nsubs) && time.Since(syncStart) < *syncTimeout {
		for _, p := range pubs {
			p.send([]byte("S"))
			syncSent++
		}
		time.Sleep(100 * time.Millisecond)
	}
	syncedN := atomic.LoadInt64(&synced)
	time.Sleep(100 * time.Millisecond) // let the last sync messages drain
	result := map[string]any{
		"mode": "fanout", "proto": *proto, "channels": *channels, "subs_per_channel": *subs,
		"size": *size, "payload": *payloadKind, "deflate": *deflate, "connect_s": connectS, "sync_s": time.Since(syncStart).Seconds(), "sync_sent": syncSent,
	}
	if syncedN < int64(nsubs) {
		result["error"] = fmt.Sprintf("only %d of %d subscribers got a first message within %v", syncedN, nsubs, *syncTimeout)
		emit(result)
		os.Exit(1)
	}
	expect := func(int) int { return *subs }
	var steps []stepResult
	seq := 0
	// publish sends n stamped messages at rate (publishers in turn) from sequence number seq on;
	// a message whose write failed still counts as sent.
	publish := func(n int, rate float64) error {
		interval := float64(time.Second) / rate
		start := time.Now()
		for i := 0; i < n; i++ {
			if d := time.Until(start.Add(time.Duration(float64(i) * interval))); d > 0 {
				time.Sleep(d)
			}
			stamp := mono()
			atomic.StoreInt64(&tr.stamp[seq], stamp)
			err := pubs[seq%*channels].send(makePayload(seq, stamp, *size))
			seq++
			if err != nil {
				return err
			}
		}
		return nil
	}
	// Warm-up at the first rate, not measured: a new TCP connection acknowledges its first
	// segments at once (quick-ack), which costs the sender, so the first messages of every
	// server come out slower than the steady state the scenario is about.
	if nwarm > 0 {
		if err := publish(nwarm, rateList[0]); err != nil {
			result["error"] = fmt.Sprintf("warm-up publish: %v", err)
			emit(result)
			os.Exit(1)
		}
		tr.waitComplete(0, nwarm, expect, time.Now().Add(*grace))
		result["warmup_messages"] = nwarm
	}
	for _, rate := range rateList {
		n := int(math.Ceil(rate * step.Seconds()))
		lo := seq
		mark("start")
		start := time.Now()
		cpu0 := cpuSeconds()
		wire0, pay0 := poll.bytesIn.Load(), atomic.LoadInt64(&payloadBytes)
		werr := publish(n, rate)
		sendEnd := time.Now()
		tr.waitComplete(lo, seq, expect, sendEnd.Add(*grace))
		mark("end")
		wire1, pay1 := poll.bytesIn.Load(), atomic.LoadInt64(&payloadBytes)
		el := sendEnd.Sub(start).Seconds()
		if el < 1e-3 {
			el = 1e-3
		}
		st := tr.stats(lo, seq, expect)
		if os.Getenv("LOADGEN_DUMP") != "" { // diagnostics: each message's time to its last subscriber
			for q := lo; q < seq; q++ {
				logf("msg %d: %.2f ms", q, float64(atomic.LoadInt64(&tr.last[q])-atomic.LoadInt64(&tr.stamp[q]))/1e6)
			}
		}
		r := stepResult{Rate: rate, Sent: seq - lo, Seconds: el, AchievedRate: float64(seq-lo) / el,
			DeliveriesPS: float64(st.Delivered) / math.Max(el, step.Seconds()), LoadgenCPU: (cpuSeconds() - cpu0) / time.Since(start).Seconds(),
			WireBytes: wire1 - wire0, PayloadBytes: pay1 - pay0, PubWriteError: errString(werr), latencyStats: st}
		r.Pass = werr == nil && st.Lost == 0 && time.Duration(st.P99Ms*1e6) <= *maxP99 && r.AchievedRate >= 0.9*rate
		steps = append(steps, r)
		logf("fanout %s rate %.0f/s: sent %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms, lost %d, %.0f deliveries/s",
			*proto, rate, r.Sent, st.P50Ms, st.P99Ms, st.MaxMs, st.Lost, r.DeliveriesPS)
		if werr != nil || (*stopOnFail && !r.Pass) {
			break
		}
	}
	poll.finish()
	for _, p := range pubs {
		p.close()
	}
	best := 0.0
	for _, s := range steps {
		if s.Pass && s.DeliveriesPS > best {
			best = s.DeliveriesPS
		}
	}
	ferr, _ := firstReadErr.Load().(error)
	result["steps"] = steps
	result["best_sustained_deliveries_per_s"] = best
	result["closed_early"] = closedEarly
	result["first_read_error"] = errString(ferr)
	result["unparsed"] = unparsed
	result["out_of_range"] = tr.extra
	emit(result)
}

// ---------------------------------------------------------------------------------------------
// Mode idle: open N connections, report READY, hold them until stdin closes (or -hold passes).

func modeIdle(args []string) {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	base := fs.String("base", "", "http:// base URL")
	proto := fs.String("proto", "ws", "ws or sse")
	conns := fs.Int("conns", 10000, "connections")
	conc := fs.Int("concurrency", 100, "handshakes at once")
	settle := fs.Duration("settle", time.Second, "wait after the last handshake before READY")
	hold := fs.Duration("hold", 5*time.Minute, "longest hold")
	src := fs.String("src", "127.0.0.2-127.0.0.9", "source addresses")
	fs.Parse(args)
	parseSrc(*src)
	u := chanURL(*base, "idle")
	if *proto == "ws" {
		u = wsURL(u)
	}
	ss := make([]*rawConn, *conns)
	t0 := time.Now()
	nerr, first := parallel(*conns, *conc, true, func(i int) error {
		s, err := rawDial(*proto == "sse", u)
		ss[i] = s
		return err
	})
	var live []*rawConn // the connections that opened (a failed dial stops the rest)
	for _, s := range ss {
		if s != nil {
			live = append(live, s)
		}
	}
	open := int64(len(live))
	var stop atomic.Bool
	startPoller(live, &stop, func(*rawConn, []byte) {}, func(*rawConn) { atomic.AddInt64(&open, -1) })
	connectS := time.Since(t0).Seconds()
	time.Sleep(*settle)
	b, _ := json.Marshal(map[string]any{"mode": "idle", "proto": *proto, "conns": *conns, "open": atomic.LoadInt64(&open),
		"errors": nerr, "first_error": errString(first), "connect_s": connectS})
	fmt.Printf("READY %s\n", b)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(*hold):
	}
	emit(map[string]any{"mode": "idle", "open_at_end": atomic.LoadInt64(&open)})
	os.Exit(0) // sockets close with the process
}

// ---------------------------------------------------------------------------------------------
// Mode ramp: open N WebSocket connections as fast as they are accepted; handshakes/s.

func modeRamp(args []string) {
	fs := flag.NewFlagSet("ramp", flag.ExitOnError)
	u := fs.String("url", "", "ws:// URL")
	conns := fs.Int("conns", 10000, "connections")
	conc := fs.Int("concurrency", 100, "handshakes at once")
	src := fs.String("src", "127.0.0.2-127.0.0.9", "source addresses")
	fs.Parse(args)
	parseSrc(*src)
	cs := make([]*websocket.Conn, *conns)
	durs := make([]int64, *conns)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	nerr, first := parallel(*conns, *conc, false, func(i int) error {
		s := time.Now()
		c, err := wsDial(*u)
		durs[i] = int64(time.Since(s))
		cs[i] = c
		return err
	})
	el := time.Since(t0).Seconds()
	cpu := (cpuSeconds() - cpu0) / el
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	ok := *conns - nerr
	emit(map[string]any{"mode": "ramp", "conns": *conns, "ok": ok, "errors": nerr, "first_error": errString(first),
		"seconds": el, "handshakes_per_s": float64(ok) / el, "p50_ms": ms(percentile(durs, .5)),
		"p99_ms": ms(percentile(durs, .99)), "max_ms": ms(percentile(durs, 1)), "loadgen_cpu": cpu})
}

// ---------------------------------------------------------------------------------------------
// Mode subscribe: S subscribers on one channel; the server publishes -count stamped messages
// itself (scenario 7, the bindings' publish loop). Prints READY when every subscriber is connected.

func modeSubscribe(args []string) {
	fs := flag.NewFlagSet("subscribe", flag.ExitOnError)
	base := fs.String("base", "", "http:// base URL")
	proto := fs.String("proto", "ws", "ws or sse")
	subs := fs.Int("subs", 1000, "subscribers")
	count := fs.Int("count", 100, "messages the server will publish (seq 0..count-1)")
	channel := fs.String("channel", "bench", "channel")
	timeout := fs.Duration("timeout", 60*time.Second, "give up waiting for messages after this")
	conc := fs.Int("concurrency", 100, "handshakes at once")
	src := fs.String("src", "127.0.0.2-127.0.0.9", "source addresses")
	fs.Parse(args)
	parseSrc(*src)
	calibrateClock()
	u := chanURL(*base, *channel)
	if *proto == "ws" {
		u = wsURL(u)
	}
	tr := newTracker(*count)
	ss := make([]*rawConn, *subs)
	nerr, first := parallel(*subs, *conc, true, func(i int) error {
		s, err := rawDial(*proto == "sse", u)
		ss[i] = s
		return err
	})
	if nerr > 0 {
		emit(map[string]any{"error": fmt.Sprintf("%d of %d subscribers failed: %v", nerr, *subs, first)})
		os.Exit(1)
	}
	var firstAt, lastAt int64
	var stop atomic.Bool
	poll := startPoller(ss, &stop, func(s *rawConn, b []byte) {
		now := mono()
		if tr.record(b, now) {
			atomic.CompareAndSwapInt64(&firstAt, 0, now)
			atomic.StoreInt64(&lastAt, now)
		}
	}, func(*rawConn) {})
	fmt.Printf("READY {\"subs\":%d}\n", *subs)
	expect := func(int) int { return *subs }
	tr.waitComplete(0, *count, expect, time.Now().Add(*timeout))
	st := tr.stats(0, *count, expect)
	poll.finish()
	span := float64(atomic.LoadInt64(&lastAt)-atomic.LoadInt64(&firstAt)) / 1e9
	emit(map[string]any{"mode": "subscribe", "proto": *proto, "subs": *subs, "span_s": span,
		"deliveries_per_s": float64(st.Delivered) / math.Max(span, 1e-3), "stats": st})
}

func main() {
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // honours GOMAXPROCS from the environment
	if len(os.Args) < 2 {
		fatalf("usage: loadgen echo|fanout|idle|ramp|subscribe [flags]")
	}
	m, args := os.Args[1], os.Args[2:]
	switch m {
	case "echo":
		modeEcho(args)
	case "fanout":
		modeFanout(args)
	case "idle":
		modeIdle(args)
	case "ramp":
		modeRamp(args)
	case "subscribe":
		modeSubscribe(args)
	default:
		fatalf("unknown mode %q", m)
	}
}

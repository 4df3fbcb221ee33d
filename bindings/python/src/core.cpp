// ssews._core — the thin pybind11 layer over the C ABI (capi/include/ssews.h).
//
// No protocol logic lives here: each method converts its arguments, releases
// the GIL, calls one ssews_* function and turns a failure into ssews.Error.
// The pure-Python package (bindings/python/ssews) builds the API on top.
//
// Rules this file keeps:
//  - The GIL is released around every call into the library, so a blocking
//    call (ssews_close joins the service thread) never stalls other threads,
//    and a service thread waiting for the GIL in a callback can finish.
//  - Callbacks run on the endpoint's service thread: they take the GIL, call
//    the Python dispatcher, and never let a Python exception unwind into C
//    (it is reported through sys.unraisablehook).
//  - No callback runs Python once interpreter shutdown has begun: an atexit
//    hook (_shutdown) closes every endpoint and waits for closes in progress
//    before finalization, and the trampoline checks a flag before taking the
//    GIL.
//  - Calls take no lock against close(): the handle is an id, so a call
//    racing ssews_close, or made after it, gets SSEWS_ECLOSED (raised as the
//    closed error). Only a pulled event needs care, as it lives until
//    ssews_close: the GIL orders next_event and close() (see next_event).
//  - The Link (callback mode's `user`) lives until the endpoint's last
//    callback, SSEWS_EV_DONE. An endpoint closed from its own callback (maybe
//    by a finalizer) calls ssews_close right there, which returns at once;
//    its close events follow, and the Link outlives the Core until DONE.
#include <poll.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ssews.h"

namespace py = pybind11;

#if PY_VERSION_HEX >= 0x030D0000
#define SSEWS_PY_FINALIZING() Py_IsFinalizing()
#else
#define SSEWS_PY_FINALIZING() _Py_IsFinalizing()
#endif

namespace {

// ---------------------------------------------------------------------------
// The GIL

// Runs fn() without the GIL. Deliberately not RAII (py::gil_scoped_release):
// when the interpreter finalizes, a daemon thread taking the GIL back is
// ended with pthread_exit, and its forced unwinding must not pass through a
// noexcept destructor (that calls std::terminate). fn must not throw.
template <typename Fn>
void without_gil(Fn &&fn) {
  PyThreadState *ts = PyEval_SaveThread();
  fn();
  PyEval_RestoreThread(ts);  // may end a daemon thread at exit: nothing to clean up here
}

// ---------------------------------------------------------------------------
// Errors

// Raises ssews.Error(message, code). Call with the GIL held and no lock held.
[[noreturn]] void raise_error(int code, const std::string &msg) {
  py::object cls = py::module_::import("ssews._errors").attr("Error");
  py::object exc = cls(py::str(msg.empty() ? std::string(ssews_strerror(code)) : msg), code);
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

// The last error of the calling thread, read right after the failed call
// (without the GIL: never throws; a failed copy leaves the message empty,
// and raise_error falls back to ssews_strerror).
std::string last_error() {
  return ssews_last_error();
}
void copy_last_error(std::string &out) noexcept {
  try {
    out = ssews_last_error();
  } catch (...) {
    out.clear();
  }
}

// ---------------------------------------------------------------------------
// Events: copied out of the library (plain C++), then turned into ssews.Event.

struct EventCopy {
  int kind = 0;
  uint64_t conn = 0;
  int protocol = 0;
  std::string data;
  bool binary = false;
  std::optional<std::string> name, id, channel;
  std::string path, query, peer, subprotocol;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> channels;
  int code = 0;
  std::string reason;
  int64_t delay_ms = 0;
  // open, join, leave (server): the token's sub and claims (JSON)
  std::optional<std::string> identity, claims;
  std::vector<std::pair<const char *, double>> stats;  // a server's close event
};

// The figures a server's close event carries (ssews_event_stat).
const char *const kCloseStats[] = {"duration_ms", "bytes_in", "bytes_out", "messages_in", "messages_out"};

std::optional<std::string> opt_str(const char *s) {
  if (!s) return std::nullopt;
  return std::string(s);
}

void copy_event(const ssews_event *ev, EventCopy &c) {
  c.kind = ssews_event_kind(ev);
  c.conn = ssews_event_conn(ev);
  c.protocol = ssews_event_protocol(ev);
  c.code = ssews_event_code(ev);
  const char *reason = ssews_event_reason(ev);
  if (reason) c.reason = reason;
  c.delay_ms = ssews_event_delay_ms(ev);
  if (c.kind == SSEWS_EV_CLOSE || c.kind == SSEWS_EV_REQUEST)
    for (const char *name : kCloseStats) {
      double v = 0;
      if (ssews_event_stat(ev, name, &v) == SSEWS_OK) c.stats.emplace_back(name, v);
    }
  if (c.kind == SSEWS_EV_MESSAGE) {
    size_t len = 0;
    const void *data = ssews_event_data(ev, &len);
    c.data.assign(static_cast<const char *>(data), len);
    c.binary = ssews_event_is_binary(ev) != 0;
    c.name = opt_str(ssews_event_name(ev));
    c.id = opt_str(ssews_event_id(ev));
    c.channel = opt_str(ssews_event_channel(ev));
  } else if (c.kind == SSEWS_EV_JOIN || c.kind == SSEWS_EV_LEAVE) {
    c.channel = opt_str(ssews_event_channel(ev));
    c.identity = opt_str(ssews_event_identity(ev));
    c.claims = opt_str(ssews_event_claim(ev, nullptr));
  } else if (c.kind == SSEWS_EV_REQUEST) {  // name: the method; code: the HTTP status
    c.name = opt_str(ssews_event_name(ev));
    if (const char *s = ssews_event_path(ev)) c.path = s;
    if (const char *s = ssews_event_query(ev)) c.query = s;
    if (const char *s = ssews_event_peer(ev)) c.peer = s;
  } else if (c.kind == SSEWS_EV_OPEN) {
    if (const char *s = ssews_event_path(ev)) c.path = s;
    if (const char *s = ssews_event_query(ev)) c.query = s;
    if (const char *s = ssews_event_peer(ev)) c.peer = s;
    if (const char *s = ssews_event_subprotocol(ev)) c.subprotocol = s;
    size_t n = ssews_event_header_count(ev);
    for (size_t i = 0; i < n; i++) {
      const char *name = nullptr, *value = nullptr;
      if (ssews_event_header_at(ev, i, &name, &value) == SSEWS_OK && name && value)
        c.headers.emplace_back(name, value);
    }
    n = ssews_event_channel_count(ev);
    for (size_t i = 0; i < n; i++)
      if (const char *ch = ssews_event_channel_at(ev, i)) c.channels.emplace_back(ch);
    c.identity = opt_str(ssews_event_identity(ev));
    c.claims = opt_str(ssews_event_claim(ev, nullptr));
  }
}

// Text from the wire: UTF-8, never failing (bad bytes become U+FFFD, or are
// kept as surrogate escapes in request metadata).
py::object text(const std::string &s, const char *errors = "replace") {
  PyObject *o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), errors);
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

py::object opt_text(const std::optional<std::string> &s) {
  return s ? text(*s) : py::none();
}

// The same names as the Node binding's, spelled as the C constant
// (SSEWS_PROTO_WS is WebSocket, not the ws:// scheme: wss:// is one too).
py::object protocol_name(int protocol) {
  if (protocol == SSEWS_PROTO_WS) return py::str("websocket");
  if (protocol == SSEWS_PROTO_SSE) return py::str("sse");
  return py::none();
}

// ssews.Event(kind, conn, protocol, data, event, id, channel, path, query,
// peer, headers, channels, code, reason, delay_ms, subprotocol, identity, claims, stats).
py::object to_python(const EventCopy &c, const py::object &event_cls) {
  py::object data = py::none();
  if (c.kind == SSEWS_EV_MESSAGE) data = c.binary ? py::object(py::bytes(c.data)) : text(c.data);
  py::dict headers;
  py::object path = py::none(), query = py::none(), peer = py::none(), subprotocol = py::none();
  py::tuple channels(c.channels.size());
  if (c.kind == SSEWS_EV_REQUEST) {
    path = text(c.path, "surrogateescape");
    query = text(c.query, "surrogateescape");
    peer = text(c.peer);
  }
  if (c.kind == SSEWS_EV_OPEN) {
    path = text(c.path, "surrogateescape");
    query = text(c.query, "surrogateescape");
    peer = text(c.peer);
    if (c.protocol == SSEWS_PROTO_WS) subprotocol = text(c.subprotocol);
    for (const auto &h : c.headers)
      headers[text(h.first, "surrogateescape")] = text(h.second, "surrogateescape");
    for (size_t i = 0; i < c.channels.size(); i++) channels[i] = text(c.channels[i], "surrogateescape");
  }
  // The claims come as the library's JSON text; Python gets them as a dict.
  py::object claims = c.claims ? py::module_::import("json").attr("loads")(text(*c.claims)) : py::dict();
  py::object stats = py::none();
  if (!c.stats.empty()) {
    py::dict d;
    for (const auto &s : c.stats) d[py::str(s.first)] = s.second;
    stats = d;
  }
  return event_cls(py::str(ssews_event_kind_name(c.kind)), py::int_(c.conn), protocol_name(c.protocol), data,
                   opt_text(c.name), opt_text(c.id), opt_text(c.channel), path, query, peer, headers,
                   channels, py::int_(c.code), text(c.reason), py::int_(c.delay_ms), subprotocol,
                   opt_text(c.identity), claims, stats);
}

// Looks up any request header of an open event while its callback runs
// (the C ABI reads headers libwebsockets does not tokenise from the live
// request). Afterwards it finds nothing.
struct HeaderLookup {
  const ssews_event *ev = nullptr;
  py::object call(const std::string &name) const {
    if (!ev) return py::none();
    const char *v = ssews_event_header(ev, name.c_str());
    if (!v) return py::none();
    return text(v, "surrogateescape");
  }
};

// ---------------------------------------------------------------------------
// Callback mode

class Core;
std::mutex g_mu;               // guards g_live and g_closing
std::condition_variable g_cv;  // signalled when g_closing drops
std::set<Core *> g_live;       // open endpoints, for _shutdown
int g_closing = 0;             // closes in progress (some end on service threads)

// The `user` pointer of callback mode, shared by the Core and the library:
// the library's reference (lib_ref) lasts until the endpoint's last
// callback, so the Link outlives a Core freed before its endpoint ended
// (closed from its own callback). Holds borrowed Python pointers, used only
// with the GIL held and `active` set (the Core clears `active`, with the GIL
// held, before it drops them).
struct Link {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;              // the Python endpoint is fully built
  std::atomic<bool> active{true};  // Python may be called
  PyObject *dispatch = nullptr;    // borrowed from Core::dispatch_
  PyObject *event_cls = nullptr;   // borrowed from Core::event_cls_
  std::shared_ptr<Link> lib_ref;   // the library's reference: dropped by end()
  // The log callback (ssews_on_log): borrowed from Core::log_fn_; called
  // only while log_on (cleared, with the GIL held, before the endpoint
  // closes or the callable is replaced).
  PyObject *log_fn = nullptr;
  std::atomic<bool> log_on{false};
  bool ended = false;    // no callback runs any more
  bool counted = false;  // close() counted it in g_closing

  // Waits (without the GIL) until the Python side is ready. False: detached.
  bool wait_ready() {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [this] { return ready || !active.load(); });
    return active.load();
  }
  void set_ready() {
    std::lock_guard<std::mutex> lk(mu);
    ready = true;
    cv.notify_all();
  }
  void deactivate() {
    std::lock_guard<std::mutex> lk(mu);
    active = false;
    cv.notify_all();
  }

  // A close is in progress: _shutdown waits until end() (unless it ended).
  void count_close() {
    std::lock_guard<std::mutex> lk(mu);
    if (ended) return;
    counted = true;
    std::lock_guard<std::mutex> glk(g_mu);
    g_closing++;
  }

  // The endpoint's last callback has run (SSEWS_EV_DONE), or ssews_close
  // returned in pull mode (where no callback sees DONE). Wakes the closes
  // waiting for it. Returns the library's reference (null after the first
  // call): whoever holds it may be the Link's last owner.
  std::shared_ptr<Link> end() {
    std::shared_ptr<Link> ref;
    bool uncount;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (ended) return nullptr;
      ended = true;
      uncount = counted;
      ref = std::move(lib_ref);
      cv.notify_all();
    }
    if (uncount) {
      std::lock_guard<std::mutex> lk(g_mu);
      g_closing--;
      g_cv.notify_all();
    }
    return ref;
  }
  bool has_ended() {
    std::lock_guard<std::mutex> lk(mu);
    return ended;
  }
  void wait_ended() {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [this] { return ended; });
  }
};

std::atomic<bool> g_exiting{false};    // _shutdown ran: Python is off limits to callbacks
thread_local Link *tl_link = nullptr;  // the endpoint whose callback this thread is running

void trampoline(ssews *, const ssews_event *ev, void *user) {
  auto *link = static_cast<Link *>(user);
  if (ssews_event_kind(ev) == SSEWS_EV_DONE) {
    // The last callback (Python hears of the end from close()): the Link
    // may be freed when `last` goes, if the Core is gone already.
    std::shared_ptr<Link> last = link->end();
    return;
  }
  if (!link->wait_ready()) return;
  if (g_exiting.load() || SSEWS_PY_FINALIZING()) return;
  py::gil_scoped_acquire gil;
  if (!link->active.load() || !link->dispatch || g_exiting.load()) return;
  Link *outer = tl_link;
  tl_link = link;
  py::object lookup;  // kept until invalidated below, whatever the callback kept
  try {
    EventCopy c;
    copy_event(ev, c);
    py::object event_cls = py::reinterpret_borrow<py::object>(link->event_cls);
    py::object pyev = to_python(c, event_cls);
    if (c.kind == SSEWS_EV_OPEN) {
      lookup = py::cast(HeaderLookup{ev});
      if (PyObject_GenericSetAttr(pyev.ptr(), py::str("_lookup").ptr(), lookup.ptr()) != 0)
        throw py::error_already_set();
    }
    py::object dispatch = py::reinterpret_borrow<py::object>(link->dispatch);
    dispatch(pyev);
  } catch (py::error_already_set &e) {
    e.discard_as_unraisable("ssews event dispatch");
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    PyErr_WriteUnraisable(nullptr);
  }
  if (lookup) lookup.cast<HeaderLookup *>()->ev = nullptr;  // the event dies when we return
  lookup = py::object();                                    // released with the GIL held
  tl_link = outer;
}

// The log callback: one line of the endpoint, on the thread that logged it
// (its service thread). Python is called with the GIL, as fn(level, message),
// and never once the endpoint is closing (its last lines are dropped then).
void log_trampoline(ssews *, int level, const char *message, void *user) {
  auto *link = static_cast<Link *>(user);
  if (!link->log_on.load() || g_exiting.load() || SSEWS_PY_FINALIZING()) return;
  py::gil_scoped_acquire gil;
  if (!link->log_on.load() || !link->active.load() || !link->log_fn || g_exiting.load()) return;
  try {
    py::object fn = py::reinterpret_borrow<py::object>(link->log_fn);
    fn(py::str(ssews_log_level_name(level)), text(message ? message : ""));
  } catch (py::error_already_set &e) {
    e.discard_as_unraisable("ssews log callback");
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    PyErr_WriteUnraisable(nullptr);
  }
}

// ---------------------------------------------------------------------------
// Data arguments: str is text (UTF-8), any bytes-like object is binary.

struct Payload {
  const char *ptr = nullptr;
  size_t len = 0;
  int flags = SSEWS_TEXT;
  py::object keep;  // a bytes copy of a mutable buffer
};

Payload payload(const py::object &data) {
  Payload p;
  if (PyUnicode_Check(data.ptr())) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize(data.ptr(), &n);  // cached in the str object
    if (!s) throw py::error_already_set();
    p.ptr = s;
    p.len = static_cast<size_t>(n);
    return p;
  }
  p.flags = SSEWS_BINARY;
  if (PyBytes_Check(data.ptr())) {
    p.ptr = PyBytes_AS_STRING(data.ptr());
    p.len = static_cast<size_t>(PyBytes_GET_SIZE(data.ptr()));
    return p;
  }
  if (PyObject_CheckBuffer(data.ptr())) {  // bytearray, memoryview, ...: copied (they may change)
    PyObject *b = PyBytes_FromObject(data.ptr());
    if (!b) throw py::error_already_set();
    p.keep = py::reinterpret_steal<py::object>(b);
    p.ptr = PyBytes_AS_STRING(b);
    p.len = static_cast<size_t>(PyBytes_GET_SIZE(b));
    return p;
  }
  throw py::type_error(std::string("data must be str (text) or bytes-like (binary), not ") +
                       Py_TYPE(data.ptr())->tp_name);
}

const char *c_str_or_null(const std::optional<std::string> &s) {
  return s ? s->c_str() : nullptr;
}

// ---------------------------------------------------------------------------
// One endpoint.

class Core {
 public:
  Core(const std::vector<std::string> &options, py::object dispatch) {
    event_cls_ = py::module_::import("ssews._event").attr("Event");
    link_ = std::make_shared<Link>();
    link_->lib_ref = link_;  // before ssews_open: its service thread may end at once
    link_->event_cls = event_cls_.ptr();
    set_dispatch_ptr(std::move(dispatch));
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) raise_error(SSEWS_ENOMEM, std::string("eventfd: ") + strerror(errno));

    std::vector<const char *> kv;
    kv.reserve(options.size() + 1);
    for (const auto &s : options) kv.push_back(s.c_str());
    kv.push_back(nullptr);
    bool callbacks = !dispatch_.is_none();
    int rc;
    std::string err;
    without_gil([&]() noexcept {
      rc = ssews_open(&ep_, kv.data(), callbacks ? trampoline : nullptr, link_.get());
      if (rc != SSEWS_OK) copy_last_error(err);
    });
    if (rc != SSEWS_OK) {
      link_->deactivate();
      link_->end();  // no endpoint, no callback: the library holds nothing
      ::close(wake_fd_);
      wake_fd_ = -1;
      raise_error(rc, err);
    }
    std::lock_guard<std::mutex> lk(g_mu);
    g_live.insert(this);
  }

  ~Core() {
    // The Python object is gone: no more callbacks into it.
    link_->deactivate();
    try {
      close();
    } catch (...) {
    }
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Core(const Core &) = delete;
  Core &operator=(const Core &) = delete;

  // Lets callbacks through once the Python endpoint is fully built.
  void ready() { link_->set_ready(); }

  // Stops calling Python (a finalizer calls this before closing).
  void detach() { link_->deactivate(); }

  // Callback mode with a dispatcher, or pull mode with None.
  void set_dispatch(py::object dispatch) {
    bool callbacks = !dispatch.is_none();
    set_dispatch_ptr(std::move(dispatch));
    call("set the event callback",
         [&](ssews *ep) { return ssews_on_event(ep, callbacks ? trampoline : nullptr, link_.get()); });
  }

  bool closed() const { return closed_.load(); }

  // The log callback (None: back to stderr). The old callable is not called
  // once this returns: ssews_on_log waits for a line in progress (without
  // the GIL, which that line may be waiting for).
  void set_log(py::object fn) {
    if (closed_.load()) raise_error(SSEWS_ECLOSED, "cannot set the log callback: the endpoint is closed");
    bool on = !fn.is_none();
    if (on && !PyCallable_Check(fn.ptr())) throw py::type_error("on_log must be callable or None");
    link_->log_on = false;
    call("set the log callback",
         [&](ssews *ep) { return ssews_on_log(ep, on ? log_trampoline : nullptr, link_.get()); });
    log_fn_ = std::move(fn);  // the old one is no longer called: it may go
    link_->log_fn = on ? log_fn_.ptr() : nullptr;
    link_->log_on = on;
  }

  int port() {
    int port = 0;
    call("get the port", [&](ssews *ep) { return ssews_port(ep, &port); });
    return port;
  }

  int fd() {
    int fd = -1;
    call("get the event fd", [&](ssews *ep) { return ssews_event_fd(ep, &fd); });
    return fd;
  }

  // The next pending event (pull mode), or None. Runs with the GIL held
  // throughout, and close() marks the endpoint closed with the GIL held
  // before it releases it to call ssews_close: so the event taken here (valid
  // until the next pull or ssews_close) is copied before a racing close can
  // free it, and no pull starts after. (The GIL also keeps pulls to one
  // thread at a time, as ssews_next_event asks.)
  py::object next_event() {
    if (closed_.load()) raise_error(SSEWS_ECLOSED, "the endpoint is closed");
    const ssews_event *ev = nullptr;
    int rc = ssews_next_event(ep_, &ev);
    if (rc == SSEWS_OK && ssews_event_kind(ev) == SSEWS_EV_DONE) rc = SSEWS_EAGAIN;  // close() tells Python
    if (rc == SSEWS_EAGAIN) return py::none();
    if (rc != SSEWS_OK) raise_error(rc, last_error());
    EventCopy c;
    copy_event(ev, c);
    return to_python(c, event_cls_);
  }

  // Waits until an event may be pending, the endpoint is closed, or the
  // timeout (seconds; None: no limit) expires. True unless it timed out.
  bool wait(std::optional<double> timeout) {
    if (closed_.load()) return true;
    // A close racing this leaves efd -1 (SSEWS_ECLOSED; poll skips it), and
    // close() signals wake_fd_ before ssews_close, so the wait returns at once
    // even if efd is already gone.
    int efd = -1;
    ssews_event_fd(ep_, &efd);
    using clock = std::chrono::steady_clock;
    const bool forever = !timeout;
    const clock::time_point deadline =
        clock::now() + std::chrono::microseconds(
                           static_cast<int64_t>(forever ? 0 : std::min(std::max(0.0, *timeout), 1e9) * 1e6));
    for (;;) {
      int ms = -1;
      if (!forever) {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - clock::now()).count();
        ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999) / 1000, 2147483647));
      }
      int r = 0, err = 0;
      without_gil([&]() noexcept {
        pollfd fds[2] = {{efd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        r = ::poll(fds, 2, ms);
        if (r < 0) err = errno;
      });
      if (r > 0) return true;
      if (r == 0) return false;
      if (err != EINTR) raise_error(SSEWS_EINTERNAL, std::string("poll: ") + strerror(err));
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // e.g. KeyboardInterrupt
    }
  }

  void send(uint64_t conn, const py::object &data, std::optional<std::string> event,
            std::optional<std::string> id) {
    Payload p = payload(data);
    call("send", [&](ssews *ep) {
      return ssews_send(ep, conn, p.ptr, p.len, p.flags, c_str_or_null(event), c_str_or_null(id));
    });
  }

  void publish(const std::string &channel, const py::object &data, std::optional<std::string> event,
               std::optional<std::string> id) {
    Payload p = payload(data);
    call("publish", [&](ssews *ep) {
      return ssews_publish(ep, channel.c_str(), p.ptr, p.len, p.flags, c_str_or_null(event),
                           c_str_or_null(id));
    });
  }

  void publish_as(uint64_t conn, const std::string &channel, const py::object &data,
                  std::optional<std::string> event, std::optional<std::string> id) {
    Payload p = payload(data);
    call("publish", [&](ssews *ep) {
      return ssews_publish_as(ep, conn, channel.c_str(), p.ptr, p.len, p.flags, c_str_or_null(event),
                              c_str_or_null(id));
    });
  }

  // True or False; other failures (no such connection, ...) raise.
  bool may_publish(uint64_t conn, const std::string &channel) {
    if (closed_.load()) raise_error(SSEWS_ECLOSED, "cannot check publishing rights: the endpoint is closed");
    int rc = SSEWS_OK;
    std::string err;
    without_gil([&]() noexcept {
      rc = ssews_may_publish(ep_, conn, channel.c_str());
      if (rc != SSEWS_OK) copy_last_error(err);
    });
    if (rc == SSEWS_EACCES) return false;
    if (rc != SSEWS_OK) raise_error(rc, err);
    return true;
  }

  void set_headers(const std::vector<std::string> &lines) {
    std::vector<const char *> arr;
    for (const auto &l : lines) arr.push_back(l.c_str());
    arr.push_back(nullptr);
    call("set the headers", [&](ssews *ep) { return ssews_set_headers(ep, arr.data()); });
  }

  void subscribe(uint64_t conn, const std::string &channel) {
    call("subscribe", [&](ssews *ep) { return ssews_subscribe(ep, conn, channel.c_str()); });
  }

  void unsubscribe(uint64_t conn, const std::string &channel) {
    call("unsubscribe", [&](ssews *ep) { return ssews_unsubscribe(ep, conn, channel.c_str()); });
  }

  void reject(uint64_t conn, int status) {
    call("reject", [&](ssews *ep) { return ssews_reject(ep, conn, status); });
  }
  void accept_subprotocol(uint64_t conn, const std::string &name) {
    call("accept_subprotocol", [&](ssews *ep) { return ssews_accept_subprotocol(ep, conn, name.c_str()); });
  }

  // The server's figures by name (ssews_stats).
  py::dict stats() {
    std::vector<const char *> names;
    std::vector<double> values;
    size_t n = 0;
    call("read the stats", [&](ssews *ep) {
      int rc = ssews_stats(ep, nullptr, nullptr, 0, &n);
      if (rc != SSEWS_OK) return rc;
      names.resize(n);
      values.resize(n);
      return ssews_stats(ep, names.data(), values.data(), n, &n);
    });
    py::dict d;
    for (size_t i = 0; i < n && i < names.size(); i++) d[py::str(names[i])] = values[i];
    return d;
  }

  void set_option(const std::string &key, const std::string &value) {
    call("set the option", [&](ssews *ep) { return ssews_set_option(ep, key.c_str(), value.c_str()); });
  }

  size_t buffered_amount(uint64_t conn) {
    size_t b = 0;
    call("read the buffered amount", [&](ssews *ep) { return ssews_buffered_amount(ep, conn, &b); });
    return b;
  }

  std::tuple<size_t, size_t, size_t> channel_stats(const std::string &channel) {
    size_t subs = 0, bytes = 0, msgs = 0;
    call("read the channel's stats",
         [&](ssews *ep) { return ssews_channel_stats(ep, channel.c_str(), &subs, &bytes, &msgs); });
    return {subs, bytes, msgs};
  }

  std::vector<uint64_t> channel_conns(const std::string &channel) {
    std::vector<uint64_t> out;
    call("list the channel's connections", [&](ssews *ep) {
      size_t n = 0;
      int rc;
      // Subscribers may come between the two calls: ask again until it fits.
      do {
        out.resize(n + 16);
        rc = ssews_channel_conns(ep, channel.c_str(), out.data(), out.size(), &n);
      } while (rc == SSEWS_OK && n > out.size());
      out.resize(rc == SSEWS_OK ? n : 0);
      return rc;
    });
    return out;
  }

  void conn_close(uint64_t conn, int code, const std::string &reason) {
    call("close the connection", [&](ssews *ep) { return ssews_conn_close(ep, conn, code, reason.c_str()); });
  }

  // Closes the endpoint (ssews_close). From any thread but the endpoint's
  // own callback it returns once the endpoint's last callback has run (a
  // second caller waits for the first); from its own callback ssews_close
  // returns at once and the close completes after the callback returns.
  void close() {
    if (closed_.exchange(true)) {
      if (tl_link != link_.get() && !link_->has_ended())
        without_gil([this]() noexcept { link_->wait_ended(); });
      return;
    }
    // closed_ is set with the GIL held: see next_event. No log line reaches
    // Python from here on (the check runs with the GIL held).
    link_->log_on = false;
    uint64_t one = 1;
    ssize_t w = ::write(wake_fd_, &one, sizeof one);  // wakes threads in wait()
    (void)w;
    {
      std::lock_guard<std::mutex> lk(g_mu);
      g_live.erase(this);
    }
    link_->count_close();
    ssews *ep = ep_;
    if (getpid() != pid_) {
      // In a forked child the service thread does not exist: leave it.
      link_->end();
      return;
    }
    if (tl_link == link_.get()) {
      // Inside our own callback: returns at once; the close events and
      // SSEWS_EV_DONE (which ends the Link) follow once the callback returns.
      ssews_close(&ep);
      return;
    }
    // Without the GIL: the service thread may need it to finish a callback.
    without_gil([&]() noexcept { ssews_close(&ep); });
    link_->end();  // callback mode: DONE did it already; pull mode: nobody reads DONE
  }

 private:
  py::object log_fn_ = py::none();  // the log callback (Link::log_fn borrows it)

  void set_dispatch_ptr(py::object dispatch) {
    dispatch_ = std::move(dispatch);
    link_->dispatch = dispatch_.is_none() ? nullptr : dispatch_.ptr();
  }

  // Calls fn(ep) without the GIL and raises ssews.Error when it fails. No
  // lock: a call racing close() gets SSEWS_ECLOSED from the library. Once
  // close() has begun the call is not made (in a forked child the library's
  // endpoint is never closed), with the message it always had.
  template <typename Fn>
  void call(const char *what, Fn &&fn) {
    if (closed_.load())
      raise_error(SSEWS_ECLOSED, std::string("cannot ") + what + ": the endpoint is closed");
    int rc = SSEWS_OK;
    std::string err;
    without_gil([&]() noexcept {
      rc = fn(ep_);
      if (rc != SSEWS_OK) copy_last_error(err);
    });
    if (rc != SSEWS_OK) raise_error(rc, err);
  }

  ssews *ep_ = nullptr;  // set once by the constructor: a handle, safe to use after close
  std::atomic<bool> closed_{false};
  std::shared_ptr<Link> link_;
  py::object dispatch_;
  py::object event_cls_;
  int wake_fd_ = -1;
  pid_t pid_ = getpid();
};

// atexit: closes every open endpoint and waits for closes in progress (on
// other threads too), so no service thread calls into Python once the
// interpreter starts finalizing.
void shutdown() {
  std::vector<Core *> live;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    live.assign(g_live.begin(), g_live.end());
  }
  for (Core *c : live) {
    {
      std::lock_guard<std::mutex> lk(g_mu);
      if (!g_live.count(c)) continue;  // closed meanwhile (by a callback)
    }
    c->detach();
    c->close();
  }
  without_gil([]() noexcept {
    std::unique_lock<std::mutex> lk(g_mu);
    g_cv.wait(lk, [] { return g_closing == 0; });
  });
  g_exiting = true;
}

// Reports an exception the way Python reports exceptions it cannot raise
// (sys.unraisablehook): "Exception ignored in: <obj>" and the traceback.
void report_unraisable(const py::object &exc, const py::object &obj) {
  PyObject *value = exc.ptr();
  if (!PyExceptionInstance_Check(value)) throw py::type_error("exc must be an exception instance");
  PyObject *type = reinterpret_cast<PyObject *>(Py_TYPE(value));
  PyObject *tb = PyException_GetTraceback(value);  // new reference (or NULL)
  Py_INCREF(type);
  Py_INCREF(value);
  PyErr_Restore(type, value, tb);  // steals all three
  PyErr_WriteUnraisable(obj.ptr());
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ssews._core: the compiled layer of ssews over the C ABI (private; use the ssews package).";

  py::class_<HeaderLookup>(m, "_HeaderLookup").def("__call__", &HeaderLookup::call, py::arg("name"));

  py::class_<Core>(m, "Core")
      .def(py::init<const std::vector<std::string> &, py::object>(), py::arg("options"), py::arg("dispatch"))
      .def("ready", &Core::ready)
      .def("detach", &Core::detach)
      .def("set_dispatch", &Core::set_dispatch, py::arg("dispatch"))
      .def_property_readonly("closed", &Core::closed)
      .def("port", &Core::port)
      .def("fd", &Core::fd)
      .def("next_event", &Core::next_event)
      .def("wait", &Core::wait, py::arg("timeout"))
      .def("send", &Core::send, py::arg("conn"), py::arg("data"), py::arg("event"), py::arg("id"))
      .def("publish", &Core::publish, py::arg("channel"), py::arg("data"), py::arg("event"), py::arg("id"))
      .def("publish_as", &Core::publish_as, py::arg("conn"), py::arg("channel"), py::arg("data"),
           py::arg("event"), py::arg("id"))
      .def("may_publish", &Core::may_publish, py::arg("conn"), py::arg("channel"))
      .def("set_headers", &Core::set_headers, py::arg("lines"))
      .def("subscribe", &Core::subscribe, py::arg("conn"), py::arg("channel"))
      .def("unsubscribe", &Core::unsubscribe, py::arg("conn"), py::arg("channel"))
      .def("reject", &Core::reject, py::arg("conn"), py::arg("status"))
      .def("accept_subprotocol", &Core::accept_subprotocol, py::arg("conn"), py::arg("name"))
      .def("conn_close", &Core::conn_close, py::arg("conn"), py::arg("code"), py::arg("reason"))
      .def("stats", &Core::stats)
      .def("set_option", &Core::set_option, py::arg("key"), py::arg("value"))
      .def("buffered_amount", &Core::buffered_amount, py::arg("conn"))
      .def("channel_stats", &Core::channel_stats, py::arg("channel"))
      .def("channel_conns", &Core::channel_conns, py::arg("channel"))
      .def("set_log", &Core::set_log, py::arg("fn"))
      .def("close", &Core::close);

  m.def(
      "version", [] { return std::string(ssews_version()); }, "The C library's version.");
  m.def(
      "strerror", [](int code) { return std::string(ssews_strerror(code)); }, py::arg("code"));
  m.def(
      "err_name", [](int code) { return std::string(ssews_err_name(code)); }, py::arg("code"),
      "The SSEWS_E* name of a code (\"SSEWS_EUNKNOWN\" if none): ssews._errors builds ErrorCode from it.");
  m.def("_shutdown", &shutdown);
  m.def("report_unraisable", &report_unraisable, py::arg("exc"), py::arg("obj"));
  m.attr("BINDING_VERSION") = SSEWS_PY_VERSION;
}

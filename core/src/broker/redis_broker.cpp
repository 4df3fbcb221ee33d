// The broker thread: two hiredis async connections on a poll() loop of its
// own. `cmd` runs the scripts (publish, history) and small reads; `sub` is in
// pub/sub mode (hiredis allows nothing else on it) and receives the live
// messages of the channels this node listens to.
#include "broker/redis_broker.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <list>
#include <map>

#include "broker/broker_cursor.h"
#include "hub.h"
#include "log.h"

namespace sw {

namespace {

int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// hiredis' async API asks its event loop to watch a context's socket through
// these hooks; our loop polls what they ask for.
struct Watch {
  redisAsyncContext *ac = nullptr;
  bool rd = false, wr = false;
};
void w_add_read(void *p) {
  static_cast<Watch *>(p)->rd = true;
}
void w_del_read(void *p) {
  static_cast<Watch *>(p)->rd = false;
}
void w_add_write(void *p) {
  static_cast<Watch *>(p)->wr = true;
}
void w_del_write(void *p) {
  static_cast<Watch *>(p)->wr = false;
}
// hiredis is freeing the context (it went away, or we freed it).
void w_cleanup(void *p) {
  auto *w = static_cast<Watch *>(p);
  w->ac = nullptr;
  w->rd = w->wr = false;
}

std::string str_of(const redisReply *r) {
  if (!r) return "";
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    return std::string(r->str, r->len);
  return "";
}

uint64_t u64_of(const redisReply *r) {
  if (r && r->type == REDIS_REPLY_INTEGER) return r->integer > 0 ? static_cast<uint64_t>(r->integer) : 0;
  std::string s = str_of(r);
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

// Stream entries ([[id, [f, v, ...]], ...]) as Messages of channel.
std::vector<MessagePtr> entries_of(const std::string &channel, const redisReply *r) {
  std::vector<MessagePtr> out;
  if (!r || r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i < r->elements; i++) {
    const redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
      continue;
    const redisReply *f = e->element[1];
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    for (size_t k = 0; k + 1 < f->elements; k += 2)
      fields.emplace_back(
          std::string_view(f->element[k]->str ? f->element[k]->str : "", f->element[k]->len),
          std::string_view(f->element[k + 1]->str ? f->element[k + 1]->str : "", f->element[k + 1]->len));
    if (auto m = decode_entry(channel, std::string_view(e->element[0]->str, e->element[0]->len), fields))
      out.push_back(std::move(m));
  }
  return out;
}

// A history script's reply: {epoch, seq, evicted1, entries1, ...}.
bool parse_history(const redisReply *r, const std::vector<std::string> &channels, std::string &epoch,
                   uint64_t &counter, std::vector<ChannelHistory> &out) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 + 2 * channels.size()) return false;
  epoch = str_of(r->element[0]);
  counter = u64_of(r->element[1]);
  out.clear();
  for (size_t i = 0; i < channels.size(); i++) {
    ChannelHistory h;
    h.evicted = u64_of(r->element[2 + 2 * i]);
    h.entries = entries_of(channels[i], r->element[3 + 2 * i]);
    out.push_back(std::move(h));
  }
  return true;
}

}  // namespace

struct RedisBroker::Impl {
  static constexpr int64_t kAnswerTimeoutMs = 5000;
  struct Req {
    enum Kind { Publish, Listen, Unlisten, Replay } kind = Publish;
    std::shared_ptr<Message> msg;
    size_t bytes = 0;
    PublishDone pdone;
    std::string channel;
    std::vector<std::string> channels;
    std::string last_id;
    ReplayDone rdone;
  };
  struct Chan {
    ChannelCursor cur;
    bool wanted = false;      // the node has subscribers
    bool sub_sent = false;    // SUBSCRIBE sent on this connection
    bool subscribed = false;  // ... and confirmed
    bool unsub_sent = false;
    bool positioned = false;  // knows where it started: catch up after an outage
    bool catch_sent = false;  // a catch-up is in flight
    bool retry = false;       // a catch-up to redo (delivery failed)
  };
  struct PendingReplay {
    std::vector<std::string> channels;
    std::string last_id;
    ReplayDone done;
  };
  struct PubCtx {
    Impl *impl;
    PublishDone done;
    size_t bytes;
  };
  struct ReplayCtx {
    Impl *impl;
    PendingReplay req;
    std::string start, epoch_used;
  };
  struct ChanCtx {
    Impl *impl;
    std::string channel;
  };

  RedisBroker &b;
  std::string prefix;
  size_t history;
  Hooks hooks;
  std::string meta_key;
  std::string candidate_epoch = new_epoch();

  std::mutex mu;  // guards reqs (other threads push)
  std::vector<Req> reqs;

  Watch cmd, sub;
  bool ready = false;
  bool teardown = false, tearing = false;
  std::string teardown_why;
  bool down_reported = false, ever_up = false, loading_reported = false;
  std::string epoch;  // the cluster's epoch as last seen ("" none yet)
  std::map<std::string, Chan> chans;
  std::list<PendingReplay> replays;  // waiting for their channels' SUBSCRIBE
  int64_t reconnect_at = 0, recheck_at = 0, retry_at = 0, sweep_at = 0;
  int backoff_ms = 100;
  std::vector<MessagePtr> batch;       // to hand to the service thread after this loop turn
  std::deque<int64_t> publishes_sent;  // when each publish in flight went out (answers come in order)

  Impl(RedisBroker &br, std::string p, size_t h, Hooks hk)
      : b(br), prefix(std::move(p)), history(h), hooks(std::move(hk)), meta_key(broker_keys::meta(prefix)) {}

  void post(std::function<void()> fn) { hooks.post(0, std::move(fn)); }
  void push(Req r) {  // any thread
    std::lock_guard<std::mutex> lk(mu);
    reqs.push_back(std::move(r));
  }
  void report(int level, int code, std::string msg) {
    auto r = hooks.report;
    post([r, level, code, msg] { r(level, code, msg); });
  }

  // --- connections ---

  bool attach(Watch &w, redisAsyncContext *ac) {
    if (!ac) return false;
    if (ac->err) {
      teardown_why = ac->errstr;
      redisAsyncFree(ac);
      return false;
    }
    ac->data = this;
    ac->ev.data = &w;
    ac->ev.addRead = w_add_read;
    ac->ev.delRead = w_del_read;
    ac->ev.addWrite = w_add_write;
    ac->ev.delWrite = w_del_write;
    ac->ev.cleanup = w_cleanup;
    w.ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    // AUTH and SELECT go first; hiredis sends them once connected.
    const BrokerAddr &a = b.addr_;
    if (!a.password.empty()) {
      if (a.user.empty())
        redisAsyncCommand(ac, on_setup, nullptr, "AUTH %b", a.password.data(), a.password.size());
      else
        redisAsyncCommand(ac, on_setup, nullptr, "AUTH %b %b", a.user.data(), a.user.size(),
                          a.password.data(), a.password.size());
    }
    if (a.db) redisAsyncCommand(ac, on_setup, nullptr, "SELECT %d", a.db);
    return true;
  }

  redisAsyncContext *open_one() {
    const BrokerAddr &a = b.addr_;
    return a.unix_path.empty() ? redisAsyncConnect(a.host.c_str(), a.port)
                               : redisAsyncConnectUnix(a.unix_path.c_str());
  }

  void connect() {
    // A Redis that lost its data gets a new epoch, never an old one again.
    candidate_epoch = new_epoch();
    reconnect_at = 0;
    teardown_why.clear();
    if (!attach(cmd, open_one()) || !attach(sub, open_one())) {
      lost(teardown_why.empty() ? "cannot create a connection" : teardown_why);
      return;
    }
    check_ready();
  }

  // Redis answers -LOADING while it replays its AOF or RDB: wait for it.
  void check_ready() {
    recheck_at = 0;
    if (cmd.ac)
      redisAsyncCommand(cmd.ac, on_ready_check, nullptr, "HGET %b epoch", meta_key.data(), meta_key.size());
  }

  void lost(const std::string &why) {
    if (tearing || teardown) return;
    teardown = true;
    teardown_why = why;
  }

  // Outside every hiredis callback: drop both connections, fail what waited.
  void do_teardown() {
    teardown = false;
    tearing = true;
    if (cmd.ac) redisAsyncFree(cmd.ac);  // in-flight callbacks get a NULL reply
    if (sub.ac) redisAsyncFree(sub.ac);
    tearing = false;
    bool was_ready = ready;
    ready = false;
    b.up_.store(false, std::memory_order_release);
    b.settled_.store(true, std::memory_order_release);
    for (auto it = chans.begin(); it != chans.end();) {
      Chan &c = it->second;
      c.sub_sent = c.subscribed = c.unsub_sent = c.catch_sent = false;
      it = c.wanted ? std::next(it) : chans.erase(it);
    }
    for (auto &r : replays) {
      auto done = r.done;
      post([done] { done(false, {}); });
    }
    replays.clear();
    if (was_ready || !down_reported) {
      down_reported = true;
      b.disconnects_.fetch_add(1, std::memory_order_relaxed);
      report(kLogError, SSEWS_EBROKER,
             "broker: " + std::string(was_ready ? "lost" : "cannot reach") + " Redis at " +
                 b.addr_.display() + " (" + teardown_why +
                 "); open connections are still served, publishes fail until it is back");
    }
    reconnect_at = mono_ms() + backoff_ms;
    backoff_ms = std::min(backoff_ms * 2, 2000);
  }

  void become_ready(const std::string &ep) {
    if (ep != epoch) {
      if (!epoch.empty()) epoch_changed(ep);
      epoch = ep;
    }
    ready = true;
    backoff_ms = 100;
    loading_reported = false;
    b.up_.store(true, std::memory_order_release);
    b.settled_.store(true, std::memory_order_release);
    if (down_reported && ever_up)
      report(kLogNotice, 0,
             "broker: Redis at " + b.addr_.display() + " is back; catching up " +
                 std::to_string(chans.size()) + " channels");
    else if (down_reported)
      report(kLogNotice, 0, "broker: connected to Redis at " + b.addr_.display());
    down_reported = false;
    ever_up = true;
    for (auto &kv : chans)
      if (kv.second.wanted) subscribe(kv.first, kv.second);
  }

  void epoch_changed(const std::string &ep) {
    epoch = ep;
    for (auto &kv : chans) kv.second.cur.reset();
    report(
        kLogError, SSEWS_EGAP,
        "broker: Redis at " + b.addr_.display() +
            " lost its data (a new epoch): subscribers may have missed messages, and older ids resume with "
            "the gap signal");
  }

  // --- channels ---

  void subscribe(const std::string &name, Chan &c) {
    if (!ready || c.sub_sent || c.unsub_sent || !sub.ac) return;
    c.sub_sent = true;
    std::string key = broker_keys::pubsub(prefix, name);
    redisAsyncCommand(sub.ac, on_sub, nullptr, "SUBSCRIBE %b", key.data(), key.size());
  }

  void catch_up(const std::string &name, Chan &c) {
    c.cur.begin_catch_up();  // live messages wait from now on
    if (!ready || c.catch_sent || !cmd.ac) return;
    c.catch_sent = true;
    c.retry = false;
    std::string start = c.cur.last() ? "(" + std::to_string(c.cur.last()) + "-0" : "-";
    std::string stream = broker_keys::stream(prefix, name), ev = broker_keys::evicted(prefix, name);
    const char *argv[] = {"EVAL",         kHistoryScript, "3",          meta_key.c_str(),
                          stream.c_str(), ev.c_str(),     start.c_str()};
    size_t lens[] = {4, strlen(kHistoryScript), 1, meta_key.size(), stream.size(), ev.size(), start.size()};
    redisAsyncCommandArgv(cmd.ac, on_caught_up, new ChanCtx{this, name}, 7, argv, lens);
  }

  void take(Chan &c, const std::vector<MessagePtr> &in, bool caught_up) {
    if (caught_up)
      c.cur.end_catch_up(in, batch);
    else
      for (const auto &m : in) c.cur.live(m, batch);
  }

  // Hands this turn's messages to the service thread, in commands of at most
  // half max_pending_bytes. When its queue is full the node fell behind:
  // fetch what did not fit again from the streams a little later (from each
  // channel's first message left out), rather than lose it or block Redis reads.
  void flush_batch() {
    if (batch.empty()) return;
    size_t limit = std::max<size_t>(1, b.max_pending_bytes_ / 2);
    std::map<std::string, uint64_t> rewind_to;
    bool failed = false;
    for (size_t i = 0; i < batch.size();) {
      size_t j = i, bytes = 0;
      do bytes += batch[j++]->payload.size();
      while (j < batch.size() && bytes + batch[j]->payload.size() <= limit);
      if (!failed) {
        auto deliver = hooks.deliver;
        auto msgs = std::make_shared<std::vector<MessagePtr>>(batch.begin() + i, batch.begin() + j);
        // One message over the bound counts as the bound, so it gets through too.
        failed = !hooks.post(std::min(bytes, limit), [deliver, msgs] { deliver(*msgs); });
      }
      if (failed)
        for (size_t k = i; k < j; k++) rewind_to.emplace(batch[k]->channel, batch[k]->seq - 1);
      i = j;
    }
    batch.clear();
    for (const auto &kv : rewind_to) {
      auto it = chans.find(kv.first);
      if (it == chans.end()) continue;
      it->second.cur.rewind(kv.second);
      it->second.cur.begin_catch_up();
      it->second.retry = true;
      retry_at = mono_ms() + 100;
    }
  }

  void try_replays() {
    for (auto it = replays.begin(); it != replays.end();) {
      bool all = true;
      for (const auto &ch : it->channels) {
        auto c = chans.find(ch);  // gone: its subscriber left meanwhile, nothing to wait for
        all = all && (c == chans.end() || c->second.subscribed);
      }
      if (!all) {
        ++it;
        continue;
      }
      if (it->last_id.empty()) {
        auto done = it->done;
        post([done] { done(true, {}); });
      } else {
        send_replay(std::move(*it), history_start(it->last_id, epoch));
      }
      it = replays.erase(it);
    }
  }

  void send_replay(PendingReplay req, std::string start) {
    std::vector<std::string> keys{meta_key};
    for (const auto &ch : req.channels) {
      keys.push_back(broker_keys::stream(prefix, ch));
      keys.push_back(broker_keys::evicted(prefix, ch));
    }
    std::string nkeys = std::to_string(keys.size());
    std::vector<const char *> argv{"EVAL", kHistoryScript, nkeys.c_str()};
    std::vector<size_t> lens{4, strlen(kHistoryScript), nkeys.size()};
    for (const auto &k : keys) argv.push_back(k.c_str()), lens.push_back(k.size());
    argv.push_back(start.c_str());
    lens.push_back(start.size());
    auto *ctx = new ReplayCtx{this, std::move(req), start, epoch};
    redisAsyncCommandArgv(cmd.ac, on_replayed, ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
  }

  // --- requests from other threads ---

  void run_requests() {
    std::vector<Req> list;
    {
      std::lock_guard<std::mutex> lk(mu);
      list.swap(reqs);
    }
    for (Req &r : list) switch (r.kind) {
        case Req::Publish:
          send_publish(r);
          break;
        case Req::Listen: {
          Chan &c = chans[r.channel];
          c.wanted = true;
          subscribe(r.channel, c);
          break;
        }
        case Req::Unlisten: {
          auto it = chans.find(r.channel);
          if (it != chans.end()) it->second.wanted = false;  // unsubscribed by the sweep, if still unwanted
          break;
        }
        case Req::Replay:
          if (!ready) {
            auto done = r.rdone;
            post([done] { done(false, {}); });
          } else {
            replays.push_back({std::move(r.channels), std::move(r.last_id), std::move(r.rdone)});
            try_replays();
          }
          break;
      }
  }

  void send_publish(Req &r) {
    if (!ready || !cmd.ac) {
      publish_failed(r.pdone, r.bytes, "not connected to Redis at " + b.addr_.display());
      return;
    }
    const Message &m = *r.msg;
    std::string stream = broker_keys::stream(prefix, m.channel), ev = broker_keys::evicted(prefix, m.channel),
                ps = broker_keys::pubsub(prefix, m.channel), hist = std::to_string(history);
    const char *argv[] = {"EVAL",
                          kPublishScript,
                          "3",
                          meta_key.c_str(),
                          stream.c_str(),
                          ev.c_str(),
                          candidate_epoch.c_str(),
                          hist.c_str(),
                          ps.c_str(),
                          m.id.c_str(),
                          m.event.c_str(),
                          m.binary ? "1" : "0",
                          reinterpret_cast<const char *>(m.payload.data())};
    size_t lens[] = {4,
                     strlen(kPublishScript),
                     1,
                     meta_key.size(),
                     stream.size(),
                     ev.size(),
                     candidate_epoch.size(),
                     hist.size(),
                     ps.size(),
                     m.id.size(),
                     m.event.size(),
                     1,
                     m.payload.size()};
    redisAsyncCommandArgv(cmd.ac, on_published, new PubCtx{this, std::move(r.pdone), r.bytes}, 13, argv,
                          lens);
    publishes_sent.push_back(mono_ms());
  }

  void publish_failed(const PublishDone &done, size_t bytes, const std::string &why) {
    b.pending_bytes_ -= bytes;
    Status st = fail(SSEWS_EBROKER, "publish failed: " + why);
    if (done)
      post([done, st] { done(st, ""); });
    else
      report(kLogError, SSEWS_EBROKER,
             "broker: " + st.msg);  // ssews_publish: the app learns by an error event
  }

  void timers(int64_t now) {
    // A Redis that stops answering without closing (frozen, a network gone
    // quiet) must not hold publishes: give up on the link as if it closed.
    if (!publishes_sent.empty() && now - publishes_sent.front() > kAnswerTimeoutMs)
      lost("Redis did not answer a publish for " + std::to_string(kAnswerTimeoutMs / 1000) + " s");
    if (reconnect_at && now >= reconnect_at) connect();
    if (recheck_at && now >= recheck_at) check_ready();
    if (retry_at && now >= retry_at) {
      retry_at = 0;
      for (auto &kv : chans)
        if (kv.second.retry && kv.second.subscribed) catch_up(kv.first, kv.second);
    }
    if (now >= sweep_at) {  // channels nobody here wants any more
      sweep_at = now + 1000;
      for (auto &kv : chans) {
        Chan &c = kv.second;
        if (!c.wanted && c.subscribed && !c.unsub_sent && sub.ac) {
          c.unsub_sent = true;
          std::string key = broker_keys::pubsub(prefix, kv.first);
          redisAsyncCommand(sub.ac, on_sub, nullptr, "UNSUBSCRIBE %b", key.data(), key.size());
        }
      }
    }
  }

  int64_t next_deadline(int64_t now) const {
    int64_t t = sweep_at;
    if (!publishes_sent.empty()) t = std::min(t, publishes_sent.front() + kAnswerTimeoutMs + 1);
    for (int64_t d : {reconnect_at, recheck_at, retry_at})
      if (d && d < t) t = d;
    return t > now ? t - now : 0;
  }

  // --- hiredis callbacks (broker thread, inside redisAsyncHandle*) ---

  static Impl *of(const redisAsyncContext *ac) { return static_cast<Impl *>(ac->data); }

  static void on_connect(const redisAsyncContext *ac, int status) {
    if (status != REDIS_OK) of(ac)->lost(ac->errstr);
  }
  static void on_disconnect(const redisAsyncContext *ac, int status) {
    (void)status;
    Impl *self = of(ac);
    if (!self->b.stop_) self->lost(ac->err ? ac->errstr : "connection closed");
  }
  static void on_setup(redisAsyncContext *ac, void *reply, void *) {
    auto *r = static_cast<redisReply *>(reply);
    if (r && r->type == REDIS_REPLY_ERROR) of(ac)->lost("Redis refused AUTH or SELECT: " + str_of(r));
  }
  static void on_ready_check(redisAsyncContext *ac, void *reply, void *) {
    Impl *self = of(ac);
    auto *r = static_cast<redisReply *>(reply);
    if (!r) return;
    if (r->type == REDIS_REPLY_ERROR) {
      std::string err = str_of(r);
      if (err.compare(0, 7, "LOADING") == 0) {
        if (!self->loading_reported)
          self->report(kLogNotice, 0,
                       "broker: Redis at " + self->b.addr_.display() + " is loading its data; waiting");
        self->loading_reported = true;
        self->recheck_at = mono_ms() + 100;
        return;
      }
      self->lost("Redis answered " + err);
      return;
    }
    if (!self->sub.ac) return;
    self->become_ready(str_of(r));
  }

  static void on_sub(redisAsyncContext *ac, void *reply, void *) {
    Impl *self = of(ac);
    auto *r = static_cast<redisReply *>(reply);
    if (r && r->type == REDIS_REPLY_ERROR) {  // an ACL that denies the channel, say
      self->lost("Redis refused SUBSCRIBE: " + str_of(r));
      return;
    }
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    std::string kind = str_of(r->element[0]), name;
    if (!broker_keys::channel_of_pubsub(self->prefix, str_of(r->element[1]), name)) return;
    auto it = self->chans.find(name);
    if (it == self->chans.end()) return;
    Chan &c = it->second;
    if (kind == "message") {
      self->live(name, c, std::string_view(r->element[2]->str ? r->element[2]->str : "", r->element[2]->len));
    } else if (kind == "subscribe") {
      c.subscribed = true;
      if (c.positioned) {
        self->catch_up(name, c);  // back after an outage: fetch what this node missed
      } else if (self->cmd.ac) {
        redisAsyncCommand(self->cmd.ac, on_position, new ChanCtx{self, name}, "HGET %b seq",
                          self->meta_key.data(), self->meta_key.size());
      }
      self->try_replays();
    } else if (kind == "unsubscribe") {
      c.subscribed = c.sub_sent = c.unsub_sent = false;
      if (c.wanted)
        self->subscribe(name, c);  // wanted again meanwhile
      else
        self->chans.erase(it);
    }
  }

  void live(const std::string &name, Chan &c, std::string_view payload) {
    std::string ep;
    uint64_t sent_ms = 0;
    auto m = decode_live(name, payload, ep, sent_ms);
    if (!m) return;  // not ours: another program on the same prefix
    // Two clocks (Redis' and this machine's): skew can make it negative, shown as 0.
    int64_t lag = wall_ms() - static_cast<int64_t>(sent_ms);
    b.lag_ms_.store(lag > 0 ? lag : 0, std::memory_order_relaxed);
    b.received_.fetch_add(1, std::memory_order_relaxed);
    if (ep != epoch) {
      if (!epoch.empty()) epoch_changed(ep);
      epoch = ep;
    }
    take(c, {m}, false);
  }

  static void on_position(redisAsyncContext *, void *reply, void *priv) {
    std::unique_ptr<ChanCtx> ctx(static_cast<ChanCtx *>(priv));
    auto *r = static_cast<redisReply *>(reply);
    if (!r || r->type == REDIS_REPLY_ERROR) return;
    auto it = ctx->impl->chans.find(ctx->channel);
    if (it == ctx->impl->chans.end()) return;
    it->second.cur.position(u64_of(r));
    it->second.positioned = true;
  }

  static void on_caught_up(redisAsyncContext *, void *reply, void *priv) {
    std::unique_ptr<ChanCtx> ctx(static_cast<ChanCtx *>(priv));
    Impl *self = ctx->impl;
    auto it = self->chans.find(ctx->channel);
    if (it == self->chans.end()) return;
    Chan &c = it->second;
    c.catch_sent = false;
    auto *r = static_cast<redisReply *>(reply);
    if (!r) return;  // gone again: the next connection catches up
    std::string ep;
    uint64_t counter = 0;
    std::vector<ChannelHistory> h;
    if (!parse_history(r, {ctx->channel}, ep, counter, h)) {
      self->lost("unexpected answer to the history script: " + str_of(r));
      return;
    }
    if (ep != self->epoch && !ep.empty()) {
      bool had = !self->epoch.empty();
      if (had) {
        self->epoch_changed(ep);
        self->catch_up(ctx->channel, c);  // from the start of the new epoch's stream
        return;
      }
      self->epoch = ep;
    }
    // Trimmed past where this node was (or nothing kept at all): the
    // channel's subscribers here may have missed messages.
    if (h[0].evicted > c.cur.last() || (self->history == 0 && counter > c.cur.last())) {
      auto gap = self->hooks.gap;
      std::string ch = ctx->channel;
      self->post([gap, ch] { gap(ch); });
    }
    self->take(c, h[0].entries, true);
  }

  static void on_replayed(redisAsyncContext *, void *reply, void *priv) {
    std::unique_ptr<ReplayCtx> ctx(static_cast<ReplayCtx *>(priv));
    Impl *self = ctx->impl;
    auto *r = static_cast<redisReply *>(reply);
    auto done = ctx->req.done;
    std::string ep;
    uint64_t counter = 0;
    std::vector<ChannelHistory> h;
    if (!r || !parse_history(r, ctx->req.channels, ep, counter, h)) {
      self->post([done] { done(false, {}); });
      return;
    }
    if (ep != ctx->epoch_used && ctx->start != "-" && self->cmd.ac) {
      self->send_replay(std::move(ctx->req), "-");  // the epoch moved under us: read all that is kept
      return;
    }
    auto res =
        std::make_shared<BrokerReplay>(broker_replay(ctx->req.last_id, ep, counter, self->history > 0, h));
    self->post([done, res] { done(true, std::move(*res)); });
  }

  static void on_published(redisAsyncContext *, void *reply, void *priv) {
    std::unique_ptr<PubCtx> ctx(static_cast<PubCtx *>(priv));
    Impl *self = ctx->impl;
    if (!self->publishes_sent.empty()) self->publishes_sent.pop_front();
    auto *r = static_cast<redisReply *>(reply);
    if (!r) {
      self->publish_failed(ctx->done, ctx->bytes,
                           "the connection to Redis was lost before it answered (the message may or may not "
                           "have been published)");
      return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
      self->publish_failed(ctx->done, ctx->bytes, "Redis answered: " + str_of(r));
      return;
    }
    self->b.pending_bytes_ -= ctx->bytes;
    if (str_of(r->element[0]) == self->candidate_epoch) self->candidate_epoch = new_epoch();  // used up
    std::string id = str_of(r->element[2]);
    if (auto done = ctx->done) self->post([done, id] { done(Status::ok(), id); });
  }
};

RedisBroker::RedisBroker(BrokerAddr addr, std::string prefix, size_t history, size_t max_pending_bytes,
                         Hooks hooks)
    : addr_(std::move(addr)),
      impl_(new Impl(*this, std::move(prefix), history, std::move(hooks))),
      max_pending_bytes_(max_pending_bytes) {}

RedisBroker::~RedisBroker() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

RedisBroker::Figures RedisBroker::figures() const {
  Figures f;
  f.up = up();
  f.pending_bytes = pending_bytes_.load(std::memory_order_relaxed);
  f.lag_seconds = static_cast<double>(lag_ms_.load(std::memory_order_relaxed)) / 1000.0;
  f.received = received_.load(std::memory_order_relaxed);
  f.disconnects = disconnects_.load(std::memory_order_relaxed);
  return f;
}

Status RedisBroker::start(int wait_ms) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail(SSEWS_EINTERNAL, "broker: cannot make an eventfd");
  impl_->connect();
  thread_ = std::thread([this] { run(); });
  int64_t until = mono_ms() + wait_ms;
  // Until the first attempt succeeded or failed (a refused connection is quick).
  while (!settled_.load(std::memory_order_acquire) && mono_ms() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return Status::ok();
}

void RedisBroker::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  wake();
  thread_.join();
}

void RedisBroker::wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    // EAGAIN: the counter is already non-zero, the thread is woken anyway
  }
}

Status RedisBroker::publish(std::shared_ptr<Message> m, PublishDone done) {
  if (!up())
    return fail(SSEWS_EBROKER, "broker: not connected to Redis at " + addr_.display() + "; publish refused");
  size_t bytes = m->payload.size();
  size_t cur = pending_bytes_.load();
  do {
    if (cur + bytes > max_pending_bytes_)
      return fail(SSEWS_EFULL, "max_pending_bytes (" + std::to_string(max_pending_bytes_) +
                                   ") of publishes wait for Redis; try again later");
  } while (!pending_bytes_.compare_exchange_weak(cur, cur + bytes));
  Impl::Req r;
  r.kind = Impl::Req::Publish;
  r.msg = std::move(m);
  r.bytes = bytes;
  r.pdone = std::move(done);
  impl_->push(std::move(r));
  wake();
  return Status::ok();
}

void RedisBroker::listen(const std::string &channel, bool on) {
  Impl::Req r;
  r.kind = on ? Impl::Req::Listen : Impl::Req::Unlisten;
  r.channel = channel;
  impl_->push(std::move(r));
  wake();
}

void RedisBroker::replay(std::vector<std::string> channels, std::string last_id, ReplayDone done) {
  Impl::Req r;
  r.kind = Impl::Req::Replay;
  r.channels = std::move(channels);
  r.last_id = std::move(last_id);
  r.rdone = std::move(done);
  impl_->push(std::move(r));
  wake();
}

void RedisBroker::run() {
  Impl &s = *impl_;
  while (!stop_) {
    pollfd fds[3];
    Watch *ws[3] = {nullptr, &s.cmd, &s.sub};
    fds[0] = {wake_fd_, POLLIN, 0};
    for (int i = 1; i < 3; i++) {
      Watch &w = *ws[i];
      fds[i] = {w.ac ? w.ac->c.fd : -1, static_cast<short>((w.rd ? POLLIN : 0) | (w.wr ? POLLOUT : 0)), 0};
      if (!w.rd && !w.wr) fds[i].fd = -1;
    }
    int64_t now = mono_ms();
    int timeout = static_cast<int>(std::min<int64_t>(s.next_deadline(now), 1000));
    if (poll(fds, 3, timeout) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      uint64_t n;
      if (read(wake_fd_, &n, sizeof n) < 0) {
        // EAGAIN: another read took it
      }
    }
    s.run_requests();
    for (int i = 1; i < 3; i++) {
      Watch &w = *ws[i];
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      if (w.ac && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) redisAsyncHandleRead(w.ac);
      if (w.ac && (fds[i].revents & (POLLOUT | POLLERR))) redisAsyncHandleWrite(w.ac);
    }
    if (s.teardown) s.do_teardown();
    s.timers(mono_ms());
    if (s.teardown) s.do_teardown();
    s.flush_batch();
  }
  s.tearing = true;
  if (s.cmd.ac) redisAsyncFree(s.cmd.ac);
  if (s.sub.ac) redisAsyncFree(s.sub.ac);
}

}  // namespace sw

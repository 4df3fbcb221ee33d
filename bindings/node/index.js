'use strict';
// ssews for Node.js: Server and Client as EventEmitters over the native
// addon. Everything about the protocols happens in the C library; this file
// only turns options into the C key/value list, events into emits and async
// iteration, and close() into a Promise.

const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const path = require('node:path');

// A source build (npm install where no prebuild matched, or in a checkout)
// first, then the prebuilt addon shipped in the package
// (prebuilds/linux-x64/node.napi.glibc.node, found the way node-gyp-build
// finds prebuildify's layout; its libraries sit beside it, rpath $ORIGIN).
function loadAddon() {
  const root = path.join(__dirname, '..', '..');
  const candidates = [
    process.env.SSEWS_NODE_ADDON,
    path.join(root, 'build-node', 'Release', 'ssews.node'),
    path.join(root, 'build-node', 'Debug', 'ssews.node'),
  ].filter(Boolean);
  for (const file of candidates) {
    if (fs.existsSync(file)) return require(file);
  }
  let prebuild;
  try {
    prebuild = require('node-gyp-build').path(root);
  } catch (err) {
    throw new Error(
      `ssews: the native addon is not built (looked for ${candidates.join(', ')}) and no prebuilt addon ` +
        `matches this platform (${err.message.trim()}); run \`npm install\` in the package directory ` +
        'to build it from source',
    );
  }
  return require(prebuild);
}

const native = loadAddon();

const kNative = Symbol('ssews.native');
const kSinks = Symbol('ssews.sinks');
const kClosing = Symbol('ssews.closing');
const kFinished = Symbol('ssews.finished');
const kDispatch = Symbol('ssews.dispatch');
const kMustHandle = Symbol('ssews.mustHandle');

function optionError(key, message) {
  const err = new TypeError(`option '${key}': ${message}`);
  err.code = 'SSEWS_EOPTION';
  err.errno = native.codes.SSEWS_EOPTION;
  return err;
}

function optionValue(key, value) {
  let s;
  switch (typeof value) {
    case 'string':
      s = value;
      break;
    case 'number':
    case 'bigint':
      s = String(value);
      break;
    case 'boolean':
      s = value ? 'true' : 'false';
      break;
    default:
      throw optionError(key, `must be a string, number or boolean, not ${value === null ? 'null' : typeof value}`);
  }
  if (s.includes('\0')) throw optionError(key, 'must not contain NUL');
  return s;
}

// { key: value, ... } -> ['key', 'value', ...] as the C ABI takes them.
// Names pass through unchanged (docs/options.md); undefined values are
// skipped. `headers: { Name: value }` becomes repeated `header` entries and
// `subprotocols` may be an array.
function optionList(options) {
  if (options === undefined || options === null) return [];
  if (typeof options !== 'object' || Array.isArray(options)) {
    const err = new TypeError('The "options" argument must be an object');
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  const list = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'headers') {
      if (value === null || typeof value !== 'object') throw optionError(key, 'must be an object of header names to values');
      const entries = typeof value.entries === 'function' && !Array.isArray(value) ? value.entries() : Object.entries(value);
      for (const [name, v] of entries) {
        for (const one of Array.isArray(v) ? v : [v]) list.push('header', `${name}: ${optionValue(key, one)}`);
      }
      continue;
    }
    if (key === 'subprotocols' && Array.isArray(value)) {
      list.push(key, value.map((p) => optionValue(key, p)).join(','));
      continue;
    }
    list.push(key, optionValue(key, value));
  }
  return list;
}

function dataOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    const err = new TypeError('The "options" argument must be an object ({ event, id })');
    err.code = 'ERR_INVALID_ARG_TYPE';
    throw err;
  }
  return options;
}

// One async iterator over an endpoint's events: it buffers what arrives
// between next() calls and ends once the endpoint is closed.
function eventIterator(endpoint) {
  const queue = [];
  const waiting = [];
  let done = false;
  const sink = {
    push(ev) {
      if (waiting.length) waiting.shift()({ value: ev, done: false });
      else queue.push(ev);
    },
    end() {
      done = true;
      while (waiting.length) waiting.shift()({ value: undefined, done: true });
    },
  };
  if (endpoint[kFinished]) sink.end();
  else endpoint[kSinks].add(sink);
  return {
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      endpoint[kSinks].delete(sink);
      queue.length = 0;
      sink.end();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

class Endpoint extends EventEmitter {
  constructor(list) {
    super();
    this[kSinks] = new Set();
    this[kClosing] = null;
    this[kFinished] = false;
    this[kNative] = new native.Endpoint(list, (ev) => this[kDispatch](ev));
    // 'log' listeners: the first one routes the endpoint's log lines here
    // (level, message) instead of stderr, the last one removed sends them
    // back. Lines come on the loop thread; they never keep the process alive.
    this.on('newListener', (name) => {
      if (name === 'log' && this.listenerCount('log') === 0 && !this.closed) {
        this[kNative].setLog((level, message) => this.emit('log', level, message));
      }
    });
    this.on('removeListener', (name) => {
      if (name === 'log' && this.listenerCount('log') === 0 && !this.closed) this[kNative].setLog(null);
    });
  }

  [kDispatch](ev) {
    for (const sink of this[kSinks]) sink.push(ev);
    // An 'error' event with no listener throws (the Node.js convention),
    // unless an async iterator takes the events or the error may go unheard.
    if (ev.type !== 'error' || this.listenerCount('error') > 0 || (this[kSinks].size === 0 && this[kMustHandle](ev))) {
      this.emit(ev.type, ev);
    }
  }

  // Whether an error event nobody handles is an uncaught exception.
  [kMustHandle]() {
    return true;
  }

  /** True once close() was called (or a client stopped for good). */
  get closed() {
    return this[kClosing] !== null;
  }

  /**
   * Closes the endpoint: flushes, closes every connection (each gets its
   * 'close' event), stops the service thread. Resolves once done; calling it
   * again returns the same promise.
   */
  close(...args) {
    if (this[kClosing] === null) {
      let p;
      try {
        p = this[kNative].close(...args);
      } catch (err) {
        return Promise.reject(err);
      }
      this[kClosing] = p.then(() => {
        this[kFinished] = true;
        for (const sink of this[kSinks]) sink.end();
        this[kSinks].clear();
      });
    }
    return this[kClosing];
  }

  /** Lets the process exit while this endpoint is open (like net.Server#unref). */
  unref() {
    this[kNative].unref();
    return this;
  }

  /** Undoes unref(): an open endpoint keeps the process alive (the default). */
  ref() {
    this[kNative].ref();
    return this;
  }

  [Symbol.asyncIterator]() {
    return eventIterator(this);
  }
}

if (Symbol.asyncDispose) {
  Endpoint.prototype[Symbol.asyncDispose] = function asyncDispose() {
    return this.close();
  };
}

class Server extends Endpoint {
  /**
   * Listens at once (port 0 picks a free port: see server.port).
   * @param {object} [options] server options of docs/options.md, by name
   */
  constructor(options) {
    if (options && Object.prototype.hasOwnProperty.call(options, 'url') && options.url !== undefined) {
      throw optionError('url', 'makes a client: use new Client(url, options)');
    }
    super(optionList(options));
    Object.defineProperty(this, 'port', { value: this[kNative].port(), enumerable: true });
  }

  // A peer's failure (a too-big message, a slow consumer, ...) is followed by
  // its 'close' event: unheard, it must not bring the server down (as with
  // http.Server's 'clientError'). Errors of the server itself (conn 0) must be handled.
  [kMustHandle](ev) {
    return ev.conn === 0;
  }

  /** Sends to every subscriber of `channel`. */
  publish(channel, data, options) {
    const { event, id } = dataOptions(options);
    this[kNative].publish(channel, data, event, id);
  }

  /** Sends to one connection (`event` and `id` are for SSE connections). */
  send(conn, data, options) {
    const { event, id } = dataOptions(options);
    this[kNative].send(conn, data, event, id);
  }

  subscribe(conn, channel) {
    this[kNative].subscribe(conn, channel);
  }

  unsubscribe(conn, channel) {
    this[kNative].unsubscribe(conn, channel);
  }

  /**
   * Publishes on behalf of connection `conn` (a WebSocket message it sent):
   * if its token's publish claim does not allow `channel`, nothing is
   * published, the connection is closed (1008 naming the channel) and an
   * Error with code 'SSEWS_EACCES' is thrown.
   */
  publishAs(conn, channel, data, options) {
    const { event, id } = dataOptions(options);
    this[kNative].publishAs(conn, channel, data, event, id);
  }

  /** Whether connection `conn` may publish into `channel` (its token's publish claim). */
  mayPublish(conn, channel) {
    return this[kNative].mayPublish(conn, channel);
  }

  /** Refuses a connection: WebSocket close 1008, SSE stream ended. */
  reject(conn, status) {
    this[kNative].reject(conn, status);
  }

  /** Closes one connection (WebSocket code 1000 or 3000-4999, and a reason). */
  closeConnection(conn, code, reason) {
    this[kNative].closeConnection(conn, code, reason);
  }

  /** The server's counters and gauges by name (docs/operations.md). */
  stats() {
    return this[kNative].stats();
  }

  /** Changes publish_token or metrics_token while running (token rotation). */
  setOption(key, value) {
    this[kNative].setOption(key, optionValue(key, value));
  }

  /**
   * Bytes queued for `conn` and not yet written (as ws' bufferedAmount). Past
   * the send_high_water option, a 'drain' event follows once it is back at
   * send_low_water.
   */
  bufferedAmount(conn) {
    return this[kNative].bufferedAmount(conn);
  }

  /** { subscribers, maxQueuedBytes, maxQueuedMessages }: a channel and its slowest subscriber. */
  channelStats(channel) {
    return this[kNative].channelStats(channel);
  }

  /** The connections subscribed to `channel` (presence). */
  presence(channel) {
    return this[kNative].channelConns(channel);
  }

  close() {
    return super.close();
  }
}

class Client extends Endpoint {
  /**
   * Connects in the background, and reconnects unless told not to.
   * @param {string|URL} url ws://, wss:// (WebSocket) or http://, https:// (SSE)
   * @param {object} [options] client options of docs/options.md, by name
   */
  constructor(url, options) {
    if (typeof url !== 'string' && !(url instanceof URL)) {
      const err = new TypeError('The "url" argument must be a string or a URL');
      err.code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    if (options && Object.prototype.hasOwnProperty.call(options, 'url') && options.url !== undefined) {
      throw optionError('url', 'pass the URL as the first argument');
    }
    super(['url', optionValue('url', String(url)), ...optionList(options)]);
    Object.defineProperty(this, 'url', { value: String(url), enumerable: true });
  }

  [kDispatch](ev) {
    try {
      super[kDispatch](ev);
    } finally {
      // A client's close event is final: it has stopped for good, so release it.
      if (ev.type === 'close') this.close();
    }
  }

  /** Sends a message (WebSocket only); queued while reconnecting. */
  send(data) {
    this[kNative].send(0, data);
  }

  /**
   * Replaces the request headers ({ Name: value }, as the `headers` option)
   * from the next connect or reconnect on: a fresh token when the old one
   * expired. null sends none.
   */
  setHeaders(headers) {
    const list = headers === null || headers === undefined ? [] : optionList({ headers });
    this[kNative].setHeaders(list.filter((_, i) => i % 2 === 1));
  }

  /** Closes for good, with a WebSocket close code and reason if given. */
  close(code, reason) {
    return code === undefined ? super.close() : super.close(code, reason);
  }
}

module.exports = {
  Server,
  Client,
  version: native.version,
  codes: Object.freeze({ ...native.codes }),
};
// `import ssews from 'ssews'` and TypeScript's default import see the same object.
Object.defineProperty(module.exports, 'default', { value: module.exports });

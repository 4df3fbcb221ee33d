/// <reference types="node" />
// Type declarations of the ssews Node.js binding (bindings/node/index.js).
import { EventEmitter } from 'node:events';

/** A connection id: a server's peers are numbered 1, 2, 3, ...; a client's one connection is 1. */
export type ConnId = number;

/** 'websocket' or 'sse'. */
export type Protocol = 'websocket' | 'sse';

/** A string is sent as text; a Buffer, TypedArray, DataView or ArrayBuffer as binary. */
export type Data = string | ArrayBufferView | ArrayBuffer;

/** A new connection (server), or a successful (re)connect (client). */
export interface OpenEvent {
  type: 'open';
  conn: ConnId;
  protocol: Protocol;
  /** Request path without the query, e.g. "/chat". */
  path: string;
  /** Raw query string without '?', "" when absent. */
  query: string;
  /** Peer address, e.g. "127.0.0.1" (server). */
  peer: string;
  /** Request headers by lower-case name (the ones libwebsockets knows). */
  headers: Record<string, string>;
  /** Channels the connection is subscribed to unless the handler changes them. */
  channels: string[];
  /**
   * WebSocket: the subprotocol ("" for none). A client: the one the server
   * selected; a server: the one answered (ssews.v1, ssews or the
   * `subprotocols` option, the first the client offered).
   */
  subprotocol?: string;
  /** Server checking tokens: the verified token's `sub`; null when admitted without a token. */
  identity: string | null;
  /** Server checking tokens: all claims of the verified token ({} without one). */
  claims: Record<string, unknown>;
}

export interface MessageEvent {
  type: 'message';
  conn: ConnId;
  protocol: Protocol;
  /** A string for text, a Buffer for binary. */
  data: string | Buffer;
  binary: boolean;
  /** SSE event type, or the ssews.v1 event name. */
  event: string | null;
  /** Message id (SSE last event id). */
  id: string | null;
  /** Channel of a message received through ssews.v1. */
  channel: string | null;
}

export interface CloseEvent {
  type: 'close';
  conn: ConnId;
  protocol: Protocol;
  /** WebSocket close code (1000, 1001, 1006, ...). */
  code: number;
  reason: string;
  /** A server's close event: the connection's figures (what an access log writes). */
  stats?: { duration_ms: number; bytes_in: number; bytes_out: number; messages_in: number; messages_out: number };
}

/** Server: the connection's queue passed send_high_water and is back at send_low_water. */
export interface DrainEvent {
  type: 'drain';
  conn: ConnId;
  protocol: Protocol;
}

/** Server with the presence option: `conn` subscribed to, or left, `channel`. */
export interface PresenceEvent {
  type: 'join' | 'leave';
  conn: ConnId;
  protocol: Protocol;
  channel: string;
  /** Server checking tokens: the `sub` of the token the connection came with; null without one. */
  identity: string | null;
  /** Server checking tokens: all claims of that token ({} without one). */
  claims: Record<string, unknown>;
}

/** The options that may change while a server runs (Server.setOption). */
export type LiveOption =
  | 'publish_token'
  | 'metrics_token'
  | 'jwt_secret'
  | 'jwt_public_key'
  | 'jwt_audience'
  | 'jwt_issuer'
  | 'jwt_leeway'
  | 'allowed_origins'
  | 'anonymous_subscribe'
  | 'log_level';

/**
 * Server with the request_events option: an HTTP request answered without becoming a stream
 * (a static file, a publish, a refusal...). `query` may hold a token: never log it.
 */
export interface RequestEvent {
  type: 'request';
  conn: 0;
  protocol: null;
  method: string;
  /** The path, without the query. */
  path: string;
  query: string;
  peer: string;
  /** The HTTP status of the answer. */
  status: number;
  stats: { duration_ms: number; bytes_in: number; bytes_out: number };
}

/** A log line's level ('log' listeners), as the log_level option names them. */
export type LogLevel = 'error' | 'warn' | 'notice' | 'info';

/** A channel before publishing: who is on it, and how far behind its slowest subscriber is. */
export interface ChannelStats {
  subscribers: number;
  maxQueuedBytes: number;
  maxQueuedMessages: number;
}

export interface ReconnectingEvent {
  type: 'reconnecting';
  conn: ConnId;
  protocol: Protocol;
  /** 1 for the first attempt after a failure or a drop. */
  attempt: number;
  /** Milliseconds before the attempt. */
  delay: number;
}

/**
 * Error codes by name, e.g. codes.SSEWS_ECONNECT === -13. At run time `codes` comes from the C
 * library (ssews_err_name); scripts/check-tables.py checks this list against SSEWS_ERRNO_MAP.
 */
export type ErrorCode =
  | 'SSEWS_EINVAL'
  | 'SSEWS_EOPTION'
  | 'SSEWS_ENOMEM'
  | 'SSEWS_ECLOSED'
  | 'SSEWS_ENOCONN'
  | 'SSEWS_EAGAIN'
  | 'SSEWS_EFULL'
  | 'SSEWS_ETOOBIG'
  | 'SSEWS_ENOTSUP'
  | 'SSEWS_EPROTO'
  | 'SSEWS_ETLS'
  | 'SSEWS_ELISTEN'
  | 'SSEWS_ECONNECT'
  | 'SSEWS_ESTATE'
  | 'SSEWS_EHTTP'
  | 'SSEWS_ETIMEOUT'
  | 'SSEWS_EINTERNAL'
  | 'SSEWS_ESLOW'
  | 'SSEWS_EURL'
  | 'SSEWS_EGAP'
  | 'SSEWS_EBROKER'
  | 'SSEWS_EACCES';

/** What ssews throws, and what 'error' events carry. */
export interface SsewsError extends Error {
  /** The SSEWS_E* name (argument type errors: ERR_INVALID_ARG_TYPE). */
  code: ErrorCode | 'ERR_INVALID_ARG_TYPE';
  /** The negative SSEWS_E* number. */
  errno?: number;
}

/**
 * An 'error' event: something failed on a connection (conn) or the endpoint (conn 0).
 * Unhandled (no listener, no async iterator) it is an uncaught exception, except a
 * server's error about one connection, which that connection's 'close' event follows.
 */
export interface ErrorEvent extends SsewsError {
  type: 'error';
  code: ErrorCode;
  errno: number;
  conn: ConnId;
  protocol: Protocol | null;
}

export type ServerEvent =
  | OpenEvent
  | MessageEvent
  | CloseEvent
  | ErrorEvent
  | DrainEvent
  | PresenceEvent
  | RequestEvent;
export type ClientEvent = OpenEvent | MessageEvent | CloseEvent | ErrorEvent | ReconnectingEvent;

type OptionValue = string | number | boolean;

/**
 * Server options (docs/options.md); names pass through to the C library.
 * scripts/check-tables.py checks these keys against core/src/option_table.h.
 */
export interface ServerOptions {
  host?: string;
  /** 0 (the default) picks a free port: see server.port. */
  port?: number;
  tls_cert?: string;
  tls_key?: string;
  /** With TLS, offer HTTP/2 in ALPN besides HTTP/1.1 (default true); WebSocket stays on HTTP/1.1. */
  http2?: boolean;
  static_dir?: string;
  history?: number;
  heartbeat?: number;
  ping_interval?: number;
  pong_timeout?: number;
  max_message_size?: number;
  max_partial_bytes?: number;
  max_connections?: number;
  max_queue_bytes?: number;
  queue_policy?: 'drop_oldest' | 'close';
  compression?: 'on' | 'off';
  subprotocols?: string;
  compression_window_bits?: number;
  compression_level?: number;
  compression_min_size?: number;
  max_header_size?: number;
  handshake_timeout?: number;
  head_timeout?: number;
  max_pending_heads?: number;
  max_pending_heads_per_ip?: number;
  max_connections_per_ip?: number;
  handshake_rate_per_ip?: number;
  handshake_burst_per_ip?: number;
  max_pending_bytes?: number;
  max_event_queue?: number;
  log_level?: 'none' | 'error' | 'warn' | 'notice' | 'info';
  /** Custom request headers to copy into open events: comma-separated names. */
  capture_headers?: string;
  /** Enables the HTTP publish endpoint (POST publish_path with this bearer token). */
  publish_token?: string;
  /** Path of the publish endpoint (default "/publish"). */
  publish_path?: string;
  /** Share channels and history with other nodes through Redis: redis://[user:password@]host[:port][/db] or unix:path. */
  broker?: string;
  /** Namespace of the broker's Redis keys (default "ssews"). */
  broker_prefix?: string;
  /** HMAC secret (HS256/384/512) every connection's JWT must be signed with, or "@path" of a file holding it. */
  jwt_secret?: string;
  /** Path of a PEM public key (RS256/384/512, PS256/384/512, ES256/384/512) verifying every connection's JWT. */
  jwt_public_key?: string;
  /** Tokens must carry this `aud`. */
  jwt_audience?: string;
  /** Tokens must carry this `iss`. */
  jwt_issuer?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf` (default 30). */
  jwt_leeway?: number;
  /** Cookie a token may come in (default "ssewsAuthorization"; only with allowed_origins). */
  jwt_cookie?: string;
  /** Web origins allowed to connect and publish, comma-separated, or "*". */
  allowed_origins?: string;
  /** Channel patterns anyone may read without a token, comma-separated. */
  anonymous_subscribe?: string;
  /** Serve Prometheus metrics at this path on the server's port (default off). */
  metrics_path?: string;
  /** Bearer token metrics_path asks for (default none). */
  metrics_token?: string;
  /** Queued bytes past which a connection owes a 'drain' event (default 1048576). */
  send_high_water?: number | string;
  /** The 'drain' event comes once the queue is back at this many bytes (default 65536). */
  send_low_water?: number | string;
  /** Seconds a graceful close spreads its goodbyes over (default 0: at once). */
  drain_timeout?: number | string;
  /** Join/leave events (and ssews.v1 notices) when subscriptions change (default false). */
  presence?: boolean;
  /** A `request` event per HTTP request answered without becoming a stream (default false). */
  request_events?: boolean;
}

/**
 * Client options (docs/options.md); names pass through to the C library
 * (`headers` becomes `header` options; the url is the constructor's argument).
 * scripts/check-tables.py checks these keys against core/src/option_table.h.
 */
export interface ClientOptions {
  /** Sent with every (re)connect: one `header` option per entry. */
  headers?: Record<string, string | string[]>;
  /** Extra WebSocket subprotocols to offer besides ssews.v1. */
  subprotocols?: string | string[];
  v1?: boolean;
  /** 'on': offer permessage-deflate (WebSocket). */
  compression?: 'on' | 'off';
  ca_file?: string;
  insecure?: boolean;
  connect_timeout?: number;
  reconnect?: boolean;
  reconnect_delay_ms?: number;
  reconnect_max_delay_ms?: number;
  reconnect_max_attempts?: number;
  last_event_id?: string;
  /** SSE: the request method, e.g. 'POST' (a WebSocket handshake is a GET). */
  method?: string;
  /** SSE: the request body, sent with every (re)connect of a method that has one. */
  body?: string;
  /** SSE: Content-Type of the body (default text/plain;charset=UTF-8; a `headers` entry replaces it). */
  content_type?: string;
  /** Reconnect (and resend) a POST/PATCH stream too; off by default: a POST is never repeated unasked. */
  reconnect_non_idempotent?: boolean;
  ping_interval?: number;
  pong_timeout?: number;
  max_message_size?: number;
  max_queue_bytes?: number;
  max_pending_bytes?: number;
  max_event_queue?: number;
  log_level?: 'none' | 'error' | 'warn' | 'notice' | 'info';
}

/** SSE fields of a message a server sends. */
export interface SendOptions {
  /** SSE `event:` (the ssews.v1 event name for WebSocket subscribers of a publish). */
  event?: string;
  /** SSE `id:`; a publish without one gets the next assigned id. */
  id?: string;
}

declare abstract class Endpoint<E> extends EventEmitter implements AsyncIterable<E> {
  /** True once close() was called (or a client stopped for good). */
  readonly closed: boolean;
  /** Lets the process exit while this endpoint is open. */
  unref(): this;
  /** Undoes unref(): an open endpoint keeps the process alive (the default). */
  ref(): this;
  /** Every event in order; the loop ends when the endpoint is closed. */
  [Symbol.asyncIterator](): AsyncIterableIterator<E>;
  [Symbol.asyncDispose](): Promise<void>;
}

export class Server extends Endpoint<ServerEvent> {
  /** Listens at once; throws (code SSEWS_EOPTION, SSEWS_ELISTEN, ...) if it cannot. */
  constructor(options?: ServerOptions);
  /** The TCP port the server listens on. */
  readonly port: number;
  /** Sends to every subscriber of `channel`, whatever its protocol. */
  publish(channel: string, data: Data, options?: SendOptions): void;
  /** Sends to one connection (`event`, `id`: SSE only). */
  send(conn: ConnId, data: Data, options?: SendOptions): void;
  subscribe(conn: ConnId, channel: string): void;
  unsubscribe(conn: ConnId, channel: string): void;
  /**
   * Publishes on behalf of connection `conn`: if its token's publish claim does not allow
   * `channel`, nothing is published, the connection is closed (1008) and an Error with
   * code 'SSEWS_EACCES' is thrown.
   */
  publishAs(conn: ConnId, channel: string, data: Data, options?: SendOptions): void;
  /** Whether connection `conn` may publish into `channel` (its token's publish claim). */
  mayPublish(conn: ConnId, channel: string): boolean;
  /** Refuses a connection (in or after its 'open' event): WebSocket close 1008, SSE stream ended. */
  reject(conn: ConnId, status?: number): void;
  /** Closes one connection: code 1000 or 3000-4999 (WebSocket), a reason of at most 123 bytes. */
  closeConnection(conn: ConnId, code?: number, reason?: string): void;
  /** The server's counters and gauges by name (docs/operations.md). */
  stats(): Record<string, number>;
  /**
   * Changes an option while running (new requests are judged by it; open connections stay): the
   * tokens, the token checks, allowed_origins, anonymous_subscribe, log_level. Other keys throw
   * SSEWS_ENOTSUP; a bad value or an unreadable key file throws SSEWS_EOPTION and changes nothing.
   */
  setOption(key: LiveOption, value: string | number): void;
  /** Bytes queued for `conn` and not yet written (as ws' bufferedAmount); see the 'drain' event. */
  bufferedAmount(conn: ConnId): number;
  /** A channel's subscribers and its slowest subscriber's queue, to look at before publishing. */
  channelStats(channel: string): ChannelStats;
  /** The connections subscribed to `channel` (presence). */
  presence(channel: string): ConnId[];
  /** Closes every connection (1001) and stops; each connection gets its 'close' event first. */
  close(): Promise<void>;

  on(event: 'drain', listener: (ev: DrainEvent) => void): this;
  once(event: 'drain', listener: (ev: DrainEvent) => void): this;
  on(event: 'join' | 'leave', listener: (ev: PresenceEvent) => void): this;
  once(event: 'join' | 'leave', listener: (ev: PresenceEvent) => void): this;
  on(event: 'request', listener: (ev: RequestEvent) => void): this;
  once(event: 'request', listener: (ev: RequestEvent) => void): this;
  /** The server's own log lines instead of stderr, while a 'log' listener is there. */
  on(event: 'log', listener: (level: LogLevel, message: string) => void): this;
  on(event: 'open', listener: (ev: OpenEvent) => void): this;
  on(event: 'message', listener: (ev: MessageEvent) => void): this;
  on(event: 'close', listener: (ev: CloseEvent) => void): this;
  on(event: 'error', listener: (err: ErrorEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'open', listener: (ev: OpenEvent) => void): this;
  once(event: 'message', listener: (ev: MessageEvent) => void): this;
  once(event: 'close', listener: (ev: CloseEvent) => void): this;
  once(event: 'error', listener: (err: ErrorEvent) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

export class Client extends Endpoint<ClientEvent> {
  /** ws:// or wss:// for WebSocket, http:// or https:// for Server-Sent Events. */
  constructor(url: string | URL, options?: ClientOptions);
  readonly url: string;
  /** Sends a message (WebSocket); queued while disconnected. */
  send(data: Data): void;
  /** Replaces the request headers from the next (re)connect on (a fresh token); null: none. */
  setHeaders(headers: Record<string, string | string[]> | Map<string, string> | null): void;
  /** Stops for good: a WebSocket close with `code` (1000 or 3000-4999) and `reason`. */
  close(code?: number, reason?: string): Promise<void>;

  on(event: 'open', listener: (ev: OpenEvent) => void): this;
  on(event: 'message', listener: (ev: MessageEvent) => void): this;
  on(event: 'close', listener: (ev: CloseEvent) => void): this;
  on(event: 'error', listener: (err: ErrorEvent) => void): this;
  on(event: 'reconnecting', listener: (ev: ReconnectingEvent) => void): this;
  /** The client's own log lines instead of stderr, while a 'log' listener is there. */
  on(event: 'log', listener: (level: LogLevel, message: string) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'open', listener: (ev: OpenEvent) => void): this;
  once(event: 'message', listener: (ev: MessageEvent) => void): this;
  once(event: 'close', listener: (ev: CloseEvent) => void): this;
  once(event: 'error', listener: (err: ErrorEvent) => void): this;
  once(event: 'reconnecting', listener: (ev: ReconnectingEvent) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** The C library's version, "MAJOR.MINOR.PATCH". */
export const version: string;
/** Error numbers by name. */
export const codes: Readonly<Record<ErrorCode, number>>;

declare const ssews: {
  Server: typeof Server;
  Client: typeof Client;
  version: typeof version;
  codes: typeof codes;
};
export default ssews;

// Types of wsgate.js. Times are in milliseconds.

/** Options of connect(). Every field is optional; the defaults are the Go client's. */
export interface Options {
  /** How many times each node's /edge/ping is timed; the median counts. Default 3. */
  probes?: number;
  /** Bounds one round of discovery and probing, ms. Default 2000. */
  probeTimeout?: number;
  /** How often the nodes are timed again while connected, ms, spread by ±10 %; negative: never. Default 300000. */
  reprobeInterval?: number;
  /** Another node is clearly nearer when its median round trip is shorter by at least this, ms, and by switchRatio. Default 20. */
  switchMargin?: number;
  /** And by at least this share of the current one's (0 to 1). Default 0.3. */
  switchRatio?: number;
  /** First reconnection wait, ms, doubled per round of attempts that all failed (a round tries the nodes in turn, each at once after the one before failed) up to backoffMax. Default 250. */
  backoffMin?: number;
  /** The longest reconnection wait, ms. A connection that stayed up 2000 ms (or backoffMax, when shorter) starts the count over; one that ends sooner, as on a node that drops its clients at once, keeps it growing. Default 5000. */
  backoffMax?: number;
  /** Bounds one connection attempt, ms. Default 10000. */
  dialTimeout?: number;
  /** A connection silent this long gets a heartbeat; one whose heartbeat goes unanswered this long again is replaced, ms. Default 20000. */
  pingInterval?: number;
  /** Called with every state change, in order, from the first connection attempt on. */
  onState?: (e: StateEvent) => void;
  /**
   * Returns the token (a JWT) for a node with authentication on. Called before every connection attempt, whose
   * handshake offers it as the subprotocol `wsgate.auth.<token>` beside `wsgate.v1`, and again when the node asks for
   * a fresh one before it expires, which is then sent as `{"auth":"<token>"}`. A token that fails (throws, or takes
   * longer than dialTimeout) fails the attempt, retried after a backoff; a connection the node closes over its token
   * ends with the code in the `disconnected` event (4001, 4003, 4008, 4009, 1013), and the next attempt gets a new
   * token. Default: none.
   */
  token?: () => string | Promise<string>;
  /** The WebSocket class. Default globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Where the last node connected to is remembered. Default globalThis.localStorage when present; null: nowhere. */
  storage?: StorageLike | null;
}

export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocket;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A change of the client's connection state. */
export interface StateEvent {
  state: 'connecting' | 'connected' | 'disconnected' | 'closed';
  /** The node's base URL (not for `closed`). */
  url?: string;
  /** The node's id, when its /edge/ping or /edge/nodes said it. */
  node?: string;
  /** The node's region, when known. */
  region?: string;
  /** For `connecting`: 1 for the first attempt (of connect, or after a loss). */
  attempt?: number;
  /** For `connecting`: the backoff waited before the attempt, ms. */
  delay?: number;
  /** For `disconnected`: the close code (1006 when the connection failed or fell silent). */
  code?: number;
  /** For `disconnected`: the close reason. */
  reason?: string;
}

/** A node as the last round of probing found it (Client.nodes). */
export interface NodeTiming {
  /** The node's base URL. */
  url: string;
  /** Its id, when known. */
  node: string;
  /** Its region, when known. */
  region: string;
  /** Its connections, as it last said. */
  conns: number;
  draining: boolean;
  /** The median round trip of its /edge/ping probes, ms; -1 when it answered none. */
  rtt: number;
}

/** Where a channel's stream stands: seq numbers publications from 1 without gaps within one epoch. */
export interface Position {
  seq: number;
  epoch: string;
}

/** What a subscription's handler receives. */
export interface Message {
  kind: 'publication' | 'gap' | 'ended';
  channel: string;
  /** The publication's seq; for a gap, where the channel stood when the subscription was restored. */
  seq: number;
  epoch: string;
  /** The publication's JSON, parsed. */
  data?: unknown;
  /** For a gap: the last publication delivered before it. */
  last?: Position;
  /** For `ended`: why the server refused to restore the subscription. */
  error?: WsgateError;
}

export interface WaitOptions {
  /** Give up after this many ms (code `timeout`). Default: wait as long as it takes. */
  timeout?: number;
  /** Give up when it aborts (code `aborted`). */
  signal?: AbortSignal;
}

/**
 * An error from the server (a wire code: bad_request, not_found, forbidden,
 * too_large, rate_limited, unavailable, timeout, internal) or from the
 * client: timeout, aborted, connection_lost, closed, no_node, subscribed.
 */
export class WsgateError extends Error {
  constructor(code: string, message: string, cause?: unknown);
  readonly code: string;
}

/** Connects to the nearest node of the cluster that seeds belong to. Rejects with code `no_node` when none can be reached; with a TypeError for a seed that is not an http(s) or ws(s) URL, or when there is no WebSocket class. */
export function connect(seeds: string | string[], options?: Options): Promise<Client>;

/** A connection to a wsgate cluster that survives the loss of nodes. Make one with connect(). */
export class Client {
  private constructor(seeds: string | string[], options: Options);
  /** Adds a listener of state events; returns a function that removes it. */
  on(event: 'state', fn: (e: StateEvent) => void): () => void;
  /** The base URL of the node in use, or '' while there is none. */
  readonly url: string;
  /** The extensions the node in use accepted (the WebSocket's `extensions`: `permessage-deflate; …` when compression was negotiated), or '' while there is no connection. */
  readonly extensions: string;
  /** The nodes as the last round of probing timed them, nearest first (those that answered no probe last); [] before the first. */
  readonly nodes: NodeTiming[];
  /** Calls method with args; resolves with the result. */
  call<T = any>(method: string, args?: unknown, opts?: WaitOptions): Promise<T>;
  /** Publishes data on channel; resolves with its position (epoch '' when the server's answer has none). */
  publish(channel: string, data: unknown, opts?: WaitOptions): Promise<Position>;
  /** Subscribes to channel; resolves once the server confirmed. */
  subscribe(channel: string, fn: (m: Message) => void, opts?: WaitOptions & { since?: Position }): Promise<Subscription>;
  /** Closes the connection and stops the client; resolves once the sockets closed (at most 2 s). */
  close(): Promise<void>;
}

/** A client's subscription to one channel. It survives reconnections. */
export class Subscription {
  private constructor();
  readonly channel: string;
  /** The position of the last publication delivered: pass it as `since` to resume from there. */
  readonly position: Position;
  /** Ends the subscription: its handler is not called again. */
  unsubscribe(opts?: WaitOptions): Promise<void>;
}

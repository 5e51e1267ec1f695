// wsgate.js: the browser (and Node) client of a wsgate cluster. It finds
// the nearest node, speaks the /ws envelope (calls, subscriptions,
// publications) and keeps working when nodes fail, with the same
// node-selection and resume rules as the Go client (package client).
// No dependencies; an ES module.
//
//	const client = await connect(['https://eu.example.com', 'https://us.example.com'])
//	const result = await client.call('market.history', { symbol: 'ACME' }, { timeout: 5000 })
//	const sub = await client.subscribe('ticks', (m) => { … })
//	const { seq } = await client.publish('chat', { text: 'hi' })
//
// Everything runs on the caller's event loop: handlers and state
// listeners are called one at a time, in the order the client decided
// what they say. Times are in milliseconds.

// @ts-check

const SUBPROTOCOL = 'wsgate.v1';
/** Starts the subprotocol that carries a token: `wsgate.auth.<token>`. The server never selects it. */
const AUTH_PROTOCOL = 'wsgate.auth.';
/** What a subprotocol may hold (RFC 6455, section 4.1: token characters). A JWT does. */
const PROTOCOL_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** How long a connection left for a nearer node may answer what waits on it. */
const MOVE_GRACE = 10000;
/** How long close() waits for the sockets' closing handshakes. */
const CLOSE_WAIT = 2000;
/** The channel a heartbeat unsubscribes from (an unsub the server always answers). */
const HEARTBEAT_CHANNEL = '_wsgate.heartbeat';
/** Wire codes after which a restored subscription is tried again on another connection. */
const TEMPORARY = ['rate_limited', 'unavailable', 'timeout', 'internal'];

/** The message with which a draining node refuses a request it did not run. */
const DRAIN_REFUSAL = 'node draining: send it to another node';

/**
 * @typedef {object} Options
 * @property {number} [probes] how many times each node's /edge/ping is timed; the median counts. Default 3.
 * @property {number} [probeTimeout] bounds one round of discovery and probing, ms. Default 2000.
 * @property {number} [reprobeInterval] how often the nodes are timed again while connected, ms, spread by ±10 %; negative: never. Default 300000 (5 minutes).
 * @property {number} [switchMargin] another node is clearly nearer when its median round trip is shorter by at least this, ms, and by switchRatio. Default 20.
 * @property {number} [switchRatio] by at least this share of the current one's (0 to 1). Default 0.3.
 * @property {number} [backoffMin] first reconnection wait, ms, doubled per round of attempts that all failed (a round tries the nodes in turn, each at once after the one before failed) up to backoffMax. Default 250.
 * @property {number} [backoffMax] the longest reconnection wait, ms. A connection that stayed up 2000 ms (or backoffMax, when shorter) starts the count over; one that ends sooner, as on a node that drops its clients at once, keeps it growing. Default 5000.
 * @property {number} [dialTimeout] bounds one connection attempt, ms. Default 10000.
 * @property {number} [pingInterval] a connection silent this long gets a heartbeat; one whose heartbeat goes unanswered this long again is replaced, ms. Default 20000.
 * @property {(e: StateEvent) => void} [onState] called with every state change, in order, from the first connection attempt on.
 * @property {() => string | Promise<string>} [token] returns the token (a JWT) for a node with authentication on. Called before every connection attempt, whose handshake offers it as the subprotocol `wsgate.auth.<token>` beside `wsgate.v1`, and again when the node asks for a fresh one before it expires (`{"auth":"refresh"}`), which is then sent as `{"auth":"<token>"}`. A token that fails (throws, or takes longer than dialTimeout) fails the attempt, retried after a backoff; a connection the node closes over its token ends with the code in the `disconnected` event (4001, 4003, 4008, 4009, 1013), and the next attempt gets a new token. Default: none.
 * @property {WebSocketConstructor} [WebSocket] the WebSocket class. Default globalThis.WebSocket.
 * @property {StorageLike | null} [storage] where the last node connected to is remembered, so a reload goes back to it unless another is clearly nearer. Default globalThis.localStorage when present; null: nowhere.
 */

/**
 * @typedef {{ new (url: string, protocols?: string | string[]): WebSocket }} WebSocketConstructor
 * @typedef {{ getItem(key: string): string | null, setItem(key: string, value: string): void }} StorageLike
 */

/**
 * A change of the client's connection state.
 * - `connecting`: attempt `attempt` (from 1 after a loss, or of the first connection) to reach `url` begins once `delay` ms have passed;
 * - `connected`: a connection to `url` is up (after connect, a reconnection, or a move to a nearer node, which has no `disconnected` before it) and every subscription is being restored on it;
 * - `disconnected`: the connection to `url` ended, with the close `code` and `reason` (1006 and a text when it failed or fell silent);
 * - `closed`: close() was called; there are no more events.
 * @typedef {object} StateEvent
 * @property {'connecting' | 'connected' | 'disconnected' | 'closed'} state
 * @property {string} [url] the node's base URL
 * @property {string} [node] the node's id, when its /edge/ping or /edge/nodes said it
 * @property {string} [region] the node's region, when known
 * @property {number} [attempt]
 * @property {number} [delay]
 * @property {number} [code]
 * @property {string} [reason]
 */

/**
 * Where a channel's stream of publications stands: `seq` numbers
 * publications from 1 without gaps within one `epoch`; a new epoch means
 * the numbering restarted.
 * @typedef {{ seq: number, epoch: string }} Position
 */

/**
 * What a subscription's handler receives.
 * - `publication`: `seq`, `epoch` and `data` (the publication's JSON, parsed);
 * - `gap`: publications after `last` (the last one delivered) may be lost: the server could not replay them, or the channel's epoch changed; `seq` and `epoch` are where the channel stood when the subscription was restored; later publications follow;
 * - `ended`: the server refused to restore the subscription (`error`); no more messages.
 * @typedef {object} Message
 * @property {'publication' | 'gap' | 'ended'} kind
 * @property {string} channel
 * @property {number} seq
 * @property {string} epoch
 * @property {unknown} [data]
 * @property {Position} [last]
 * @property {WsgateError} [error]
 */

/**
 * @typedef {object} WaitOptions
 * @property {number} [timeout] give up after this many ms (code `timeout`); default: wait as long as it takes
 * @property {AbortSignal} [signal] give up when it aborts (code `aborted`)
 */

/**
 * An error from the server (`code` is a wire code: bad_request,
 * not_found, forbidden, too_large, rate_limited, unavailable, timeout,
 * internal) or from the client: `timeout` (the caller's timeout passed),
 * `aborted`, `connection_lost` (the request went out on a connection
 * that ended before its answer: it may or may not have run), `closed`,
 * `no_node` (connect reached no node), `subscribed` (one subscription
 * per channel).
 */
export class WsgateError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {unknown} [cause]
   */
  constructor(code, message, cause) {
    super(`wsgate: ${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'WsgateError';
    /** @type {string} */
    this.code = code;
  }
}

/**
 * Reports whether e is a draining node's refusal of a request it did not
 * run.
 * @param {unknown} e
 */
function refusedByDrain(e) {
  return e instanceof WsgateError && e.code === 'unavailable' && e.message === `wsgate: unavailable: ${DRAIN_REFUSAL}`;
}

/**
 * Connects to the nearest node of the cluster that `seeds` belong to and
 * resolves with a Client that stays connected until close(). Seeds are
 * base URLs of nodes ("https://eu.example.com"; ws and wss mean http and
 * https). It asks them for the nodes (GET /edge/nodes), times every node
 * (GET /edge/ping) and tries them nearest first; it rejects with code
 * `no_node` when none can be reached, and with a TypeError for a seed
 * that is not an http(s) or ws(s) URL or when there is no WebSocket class.
 * @param {string | string[]} seeds
 * @param {Options} [options]
 * @returns {Promise<Client>}
 */
export async function connect(seeds, options = {}) {
  const c = new Client(seeds, options);
  await c._start();
  return c;
}

/**
 * A connection to a wsgate cluster that survives the loss of nodes. Make
 * one with connect().
 */
export class Client {
  /**
   * Use connect() instead.
   * @param {string | string[]} seeds
   * @param {Options} options
   */
  constructor(seeds, options) {
    const o = withDefaults(options);
    /** @private */ this._o = o;
    /** @private */ this._seeds = [...new Set((Array.isArray(seeds) ? seeds : [seeds]).map(baseURL))];
    if (this._seeds.length === 0) throw new TypeError('wsgate: no seed given');
    if (!o.WebSocket) throw new TypeError('wsgate: no WebSocket here: pass options.WebSocket');
    /** @private @type {string[]} nodes in the order to try them */ this._plan = [];
    /** @private @type {Map<string, {node: string, region: string}>} */ this._info = new Map();
    /** @private @type {Set<string>} nodes timed with /healthz */ this._noPing = new Set();
    /** @private @type {NodeTiming[]} the last round of probing, nearest first */ this._timed = [];
    /** @private @type {Conn | null} */ this._conn = null;
    /** @private @type {Set<Conn>} */ this._conns = new Set();
    /** @private @type {Map<string, Subscription>} */ this._subs = new Map();
    /** @private @type {Set<() => void>} woken on attach and close */ this._waiters = new Set();
    /** @private @type {Set<(e: StateEvent) => void>} */ this._listeners = new Set();
    /** @private */ this._nextID = 0;
    /** @private */ this._closed = false;
    /** @private */ this._key = 'wsgate.node ' + this._seeds.join(' ');
    if (o.onState) this._listeners.add(o.onState);
  }

  /**
   * Adds a listener of state events; returns a function that removes it.
   * @param {'state'} event
   * @param {(e: StateEvent) => void} fn
   * @returns {() => void}
   */
  on(event, fn) {
    if (event !== 'state') throw new TypeError(`wsgate: unknown event ${event}`);
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /** The base URL of the node in use, or '' while there is none. */
  get url() {
    return this._conn ? this._conn.url : '';
  }

  /**
   * The extensions the node in use accepted on its connection, as the
   * WebSocket reports them (`permessage-deflate; server_no_context_takeover; …`
   * when compression was negotiated), or '' while there is no connection.
   * @returns {string}
   */
  get extensions() {
    return this._conn ? String(this._conn.ws.extensions || '') : '';
  }

  /**
   * The nodes as the last round of probing timed them, nearest first
   * (the nodes that answered no probe last): a copy, with `rtt` the
   * median round trip to the node's /edge/ping in ms, or -1. Probing
   * happens in connect, every reprobeInterval, and after a round of
   * reconnection attempts that all failed; [] before the first.
   * @returns {NodeTiming[]}
   */
  get nodes() {
    return this._timed.map((n) => ({ ...n }));
  }

  /**
   * Calls `method` on the server with `args` and resolves with the
   * result. While the client reconnects, the call waits for the next
   * connection. It rejects with a WsgateError: the server's code, or
   * `timeout`, `aborted`, `connection_lost`, `closed`.
   * @param {string} method
   * @param {unknown} [args] sent as JSON; undefined sends none
   * @param {WaitOptions} [opts]
   * @returns {Promise<any>}
   */
  call(method, args, opts) {
    /** @type {Record<string, unknown>} */
    const r = { call: method };
    if (args !== undefined) r.args = args;
    return this._roundTrip(r, opts);
  }

  /**
   * Publishes `data` on `channel`; resolves with the publication's
   * position (`epoch` is '' when the server's answer has none; this
   * version's /ws answers `seq` only). Waits and fails as call() does.
   * @param {string} channel
   * @param {unknown} data
   * @param {WaitOptions} [opts]
   * @returns {Promise<Position>}
   */
  async publish(channel, data, opts) {
    const res = await this._roundTrip({ pub: channel, data: data === undefined ? null : data }, opts);
    return { seq: res && typeof res.seq === 'number' ? res.seq : 0, epoch: res && typeof res.epoch === 'string' ? res.epoch : '' };
  }

  /**
   * Subscribes to `channel` and calls `fn` with its publications; resolves
   * once the server confirmed. The subscription survives reconnections:
   * fn sees each publication once, in order, or a `gap` message where
   * that could not be done. With `since` (a Position kept from an earlier
   * subscription, across a reload say) it starts as a resume from there.
   * The client holds one subscription per channel.
   * @param {string} channel
   * @param {(m: Message) => void} fn
   * @param {WaitOptions & { since?: Position }} [opts]
   * @returns {Promise<Subscription>}
   */
  async subscribe(channel, fn, opts = {}) {
    if (this._closed) throw new WsgateError('closed', 'client closed');
    if (this._subs.has(channel)) throw new WsgateError('subscribed', `already subscribed to ${channel}`);
    const s = new Subscription(this, channel, fn);
    if (opts.since) {
      s._pos = { seq: opts.since.seq, epoch: opts.since.epoch || '' };
      s._known = true;
    }
    this._subs.set(channel, s);
    if (this._conn) this._subscribeOn(this._conn, s);
    const stop = deadline(opts, this);
    try {
      await Promise.race([s._settled, stop.p]);
    } catch (e) {
      s.unsubscribe().catch(() => {});
      throw e;
    } finally {
      stop.clear();
    }
    return s;
  }

  /**
   * Closes the connection (1000) and stops the client: calls, publications
   * and subscribes fail with `closed`, handlers are not called any more,
   * and listeners get a last `closed` event. Resolves once the sockets
   * closed (at most 2 s).
   * @returns {Promise<void>}
   */
  async close() {
    if (this._closed) return;
    this._closed = true;
    this._wake();
    clearTimeout(this._sleepTimer);
    const conns = [...this._conns];
    for (const cn of conns) cn.fail(1000, 'closed');
    this._conn = null;
    this._emit({ state: 'closed' });
    this._listeners.clear();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    await Promise.race([Promise.all(conns.map((cn) => cn.closed)), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT)))]);
    clearTimeout(timer);
  }

  // ---- connecting and failing over (as the Go client's supervisor) ----

  /** @internal */
  async _start() {
    const ranked = await this._survey();
    let saved = '';
    try {
      saved = (this._o.storage && this._o.storage.getItem(this._key)) || '';
    } catch {}
    this._plan = order(ranked, choose(ranked, saved, this._o));
    if (this._plan.length === 0) this._plan = [...this._seeds]; // all draining: try them all the same
    /** @type {unknown[]} */
    const errs = [];
    let n = 0;
    for (const url of this._plan) {
      this._emit({ state: 'connecting', ...this._about(url), attempt: ++n, delay: 0 });
      try {
        const cn = await this._dial(url);
        this._run(cn);
        return;
      } catch (e) {
        errs.push(e);
      }
      if (this._closed) break;
    }
    this._closed = true;
    this._listeners.clear();
    throw new WsgateError('no_node', `no node reachable (${this._plan.join(', ')})`, new AggregateError(errs));
  }

  /**
   * Uses one connection at a time: attaches cn, watches it and, when it
   * ends, reconnects, until close().
   * @private
   * @param {Conn | null} cn
   */
  async _run(cn) {
    const st = { attempt: 0 }; // failed attempts since the last stable connection
    while (cn) {
      this._attach(cn);
      const start = Date.now();
      const next = await this._watch(cn);
      if (next) {
        // A clearly nearer node is connected already: new requests go
        // there, and cn answers those it has before it closes.
        this._detach(cn);
        cn.retire();
        cn = next;
        st.attempt = 0;
        continue;
      }
      this._detach(cn);
      if (this._closed) return;
      this._emit({ state: 'disconnected', ...this._about(cn.url), code: cn.code, reason: cn.reason });
      if (stable(Date.now() - start, this._o.backoffMax)) st.attempt = 0;
      const at = this._plan.indexOf(cn.url) + 1; // the next nearest; 0 when it left the plan
      cn = await this._reconnect(at, cn.code === 1012, st);
    }
  }

  /**
   * Tries the plan's nodes in turn from index at, in rounds: it waits a
   * backoff before each round but the first when immediate (after a
   * 1012), and tries a round's other nodes each at once after the one
   * before failed. After a round in which every node failed it times them
   * again. Resolves with null once the client is closed.
   * @private
   * @param {number} at
   * @param {boolean} immediate
   * @param {{ attempt: number }} st
   * @returns {Promise<Conn | null>}
   */
  async _reconnect(at, immediate, st) {
    let tried = 0;
    for (let n = 1; ; n++) {
      let delay = 0;
      const newRound = tried === 0 || tried >= this._plan.length;
      if (newRound && !immediate) delay = backoff(st.attempt++, this._o.backoffMin, this._o.backoffMax, Math.random());
      immediate = false;
      if (tried >= this._plan.length) {
        const ranked = await this._survey();
        if (this._closed) return null;
        if (ranked.length > 0) this._plan = order(ranked, choose(ranked, '', this._o));
        at = 0;
        tried = 0;
      }
      const url = this._plan[(at + tried) % this._plan.length];
      tried++;
      this._emit({ state: 'connecting', ...this._about(url), attempt: n, delay });
      if (!(await this._sleep(delay))) return null;
      try {
        return await this._dial(url);
      } catch {
        if (this._closed) return null;
      }
    }
  }

  /**
   * Keeps cn alive until it ends, the client closes, or a re-probe finds
   * a clearly nearer node and connects to it: then it resolves with the
   * new connection.
   * @private
   * @param {Conn} cn
   * @returns {Promise<Conn | null>}
   */
  _watch(cn) {
    const o = this._o;
    return new Promise((resolve) => {
      let done = false;
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let reprobe;
      /** @param {Conn | null} v */
      const finish = (v) => {
        if (done) return;
        done = true;
        clearInterval(beat);
        clearTimeout(reprobe);
        this._waiters.delete(onClose);
        resolve(v);
      };
      const onClose = () => this._closed && finish(null);
      this._waiters.add(onClose);
      cn.gone.then(() => finish(null));
      // Heartbeat: a silent connection gets an unsub the server answers;
      // one that answers nothing within pingInterval is replaced. Timed
      // from the heartbeat, not the last message, so timers a background
      // tab slows down do not end a healthy connection.
      const beat = setInterval(() => {
        const now = Date.now();
        if (cn.pingAt && cn.lastRead < cn.pingAt) {
          if (now - cn.pingAt >= o.pingInterval) cn.fail(1006, 'no answer to the heartbeat');
        } else if (now - cn.lastRead >= o.pingInterval) {
          cn.pingAt = now;
          cn.request(++this._nextID, { unsub: HEARTBEAT_CHANNEL }, { onReply() {} });
        }
      }, o.pingInterval / 2);
      const schedule = () => {
        if (o.reprobeInterval > 0) reprobe = setTimeout(run, o.reprobeInterval * (0.9 + 0.2 * Math.random()));
      };
      const run = async () => {
        const ranked = await this._survey();
        if (done) return;
        schedule();
        if (ranked.length === 0) return;
        const best = choose(ranked, cn.url, o);
        this._plan = order(ranked, best);
        if (best === cn.url) return;
        try {
          const next = await this._dial(best);
          if (done) next.fail(1000, 'closed');
          else finish(next);
        } catch {
          if (!done) this._plan = order(ranked, cn.url);
        }
      };
      schedule();
    });
  }

  /**
   * Makes cn the connection in use: waiters go ahead, every subscription
   * is restored on it, and the node is remembered.
   * @private
   * @param {Conn} cn
   */
  _attach(cn) {
    if (!cn.ended) this._conn = cn; // one that closed at once is watched, and left, all the same
    this._emit({ state: 'connected', ...this._about(cn.url) });
    for (const s of this._subs.values()) this._subscribeOn(cn, s);
    this._wake();
    try {
      if (this._o.storage && this._o.storage.getItem(this._key) !== cn.url) this._o.storage.setItem(this._key, cn.url);
    } catch {}
  }

  /**
   * @private
   * @param {Conn} cn
   */
  _detach(cn) {
    if (this._conn === cn) this._conn = null;
  }

  /** @private */
  _wake() {
    for (const w of [...this._waiters]) w();
  }

  /**
   * @private
   * @param {string} url
   */
  _about(url) {
    const i = this._info.get(url);
    return { url, node: i ? i.node : '', region: i ? i.region : '' };
  }

  /**
   * @private
   * @param {StateEvent} e
   */
  _emit(e) {
    for (const fn of [...this._listeners]) callSafely(fn, e);
  }

  /**
   * Waits ms; resolves false when the client was closed meanwhile.
   * @private
   * @param {number} ms
   * @returns {Promise<boolean>}
   */
  _sleep(ms) {
    if (ms <= 0 || this._closed) return Promise.resolve(!this._closed);
    return new Promise((resolve) => {
      const wake = () => {
        if (!this._closed) return;
        clearTimeout(this._sleepTimer);
        this._waiters.delete(wake);
        resolve(false);
      };
      this._waiters.add(wake);
      /** @private */
      this._sleepTimer = setTimeout(() => {
        this._waiters.delete(wake);
        resolve(!this._closed);
      }, ms);
    });
  }

  /**
   * Opens a WebSocket to the node at url, within dialTimeout.
   * @private
   * @param {string} url
   * @returns {Promise<Conn>}
   */
  async _dial(url) {
    /** @type {string[]} */
    const protocols = [SUBPROTOCOL];
    if (this._o.token) protocols.push(AUTH_PROTOCOL + (await this._token(url)));
    return new Promise((resolve, reject) => {
      if (this._closed) return reject(new WsgateError('closed', 'client closed'));
      /** @type {WebSocket} */
      let ws;
      try {
        ws = new this._o.WebSocket(wsURL(url), protocols);
      } catch (e) {
        return reject(e);
      }
      const cn = new Conn(this, url, ws);
      const timer = setTimeout(() => cn.fail(1006, 'dial timeout'), this._o.dialTimeout);
      cn.opened.then(() => {
        clearTimeout(timer);
        if (this._closed) {
          cn.fail(1000, 'closed');
          reject(new WsgateError('closed', 'client closed'));
        } else resolve(cn);
      });
      cn.gone.then(() => {
        clearTimeout(timer);
        reject(new WsgateError('unavailable', `${url}: ${cn.reason || 'connection failed'} (${cn.code})`));
      });
    });
  }

  /**
   * Calls the token option, within dialTimeout, and checks that what it
   * returns can travel as a subprotocol.
   * @private
   * @param {string} url the node it is for, for error messages
   * @returns {Promise<string>}
   */
  async _token(url) {
    const get = /** @type {() => string | Promise<string>} */ (this._o.token);
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    try {
      const tok = await Promise.race([
        Promise.resolve().then(get),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no token within dialTimeout')), this._o.dialTimeout))),
      ]);
      if (typeof tok !== 'string' || !PROTOCOL_CHARS.test(tok)) throw new TypeError('token: not a non-empty string of token characters');
      return tok;
    } catch (e) {
      throw new WsgateError('unavailable', `${url}: token: ${e instanceof Error ? e.message : String(e)}`, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Answers the node's {"auth":"refresh"} push on cn with a fresh token.
   * When the token option fails nothing is sent: the node closes the
   * connection when the token in use expires (4008), and the next
   * connection asks for a token again.
   * @private
   * @param {Conn} cn
   */
  async _refresh(cn) {
    if (!this._o.token) return;
    let tok;
    try {
      tok = await this._token(cn.url);
    } catch {
      return;
    }
    if (!cn.ended && cn.ws.readyState === 1) cn.ws.send(JSON.stringify({ auth: tok }));
  }

  // ---- discovery and probing (as the Go client's prober) ----

  /**
   * One round of discovery and probing, within probeTimeout, ranked.
   * @private
   * @returns {Promise<Probe[]>}
   */
  async _survey() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this._o.probeTimeout);
    const onClose = () => this._closed && ctl.abort();
    this._waiters.add(onClose);
    try {
      const listed = await discover(this._seeds, ctl.signal);
      const results = await Promise.all(candidates(listed, this._seeds).map((n) => this._probeNode(n, ctl.signal)));
      const merged = merge(results, listed);
      for (const r of merged) if (r.node || r.region) this._info.set(r.url, { node: r.node, region: r.region });
      this._timed = timings(merged);
      return rank(merged, this._o);
    } finally {
      clearTimeout(timer);
      this._waiters.delete(onClose);
    }
  }

  /**
   * Times node n `probes` times, one probe after the other (so that after
   * the first they reuse one HTTP connection and time round trips, not
   * handshakes).
   * @private
   * @param {Node} n
   * @param {AbortSignal} signal
   * @returns {Promise<Probe>}
   */
  async _probeNode(n, signal) {
    /** @type {Probe} */
    const r = { url: n.url, node: n.node, region: n.region, conns: n.conns, draining: n.draining, rtts: [] };
    for (let i = 0; i < this._o.probes && !signal.aborted; i++) {
      try {
        const healthz = this._noPing.has(n.url);
        const start = now();
        const res = await fetch(n.url + (healthz ? '/healthz' : '/edge/ping'), { cache: 'no-store', signal });
        const body = await res.text();
        const rtt = now() - start;
        if (res.status === 404 && !healthz) {
          this._noPing.add(n.url); // a node without /edge/ping: time /healthz
          i--;
          continue;
        }
        if (!res.ok) continue;
        r.rtts.push(rtt);
        if (!healthz) {
          const info = node(parseJSON(body));
          if (info) Object.assign(r, { node: info.node, region: info.region, conns: info.conns, draining: r.draining || info.draining });
        }
      } catch {}
    }
    return r;
  }

  // ---- requests ----

  /**
   * Sends r on the connection in use and waits for the reply. A request
   * that could not be sent waits for the next connection; one sent on a
   * connection lost before the reply fails with connection_lost.
   * @private
   * @param {Record<string, unknown>} r
   * @param {WaitOptions} [opts]
   */
  async _roundTrip(r, opts) {
    const stop = deadline(opts, this);
    try {
      for (;;) {
        if (this._closed) throw new WsgateError('closed', 'client closed');
        const cn = this._conn;
        if (!cn) {
          const ready = this._ready();
          try {
            await Promise.race([ready.p, stop.p]);
          } finally {
            ready.cancel();
          }
          continue;
        }
        /** @type {Pending} */
        let p = {};
        const answer = new Promise((resolve, reject) => (p = { resolve, reject }));
        const id = ++this._nextID;
        if (!cn.request(id, r, p)) {
          await Promise.race([cn.gone, stop.p]); // lost before it was sent: wait for the next one
          continue;
        }
        try {
          return await Promise.race([answer, stop.p]);
        } catch (e) {
          if (!refusedByDrain(e)) throw e;
        } finally {
          cn.pending.delete(id);
        }
        // Not run; the node closes this connection next (1012): send it
        // again on the one after.
        await Promise.race([cn.gone, stop.p]);
      }
    } finally {
      stop.clear();
    }
  }

  /**
   * A promise that resolves at the next attach or close, and cancel,
   * which stops waiting for it.
   * @private
   */
  _ready() {
    /** @type {() => void} */
    let w = () => {};
    /** @type {Promise<void>} */
    const p = new Promise((resolve) => (w = () => resolve()));
    this._waiters.add(w);
    return { p, cancel: () => this._waiters.delete(w) };
  }

  // ---- subscriptions (as the Go client's subscribe.go) ----

  /**
   * Sends a sub for s on cn: a resume from s's position when it has one.
   * A sub that cannot be sent goes out again on the next connection.
   * @private
   * @param {Conn} cn
   * @param {Subscription} s
   */
  _subscribeOn(cn, s) {
    const resume = s._known;
    /** @type {Record<string, unknown>} */
    const r = { sub: s.channel };
    if (resume) r.since = { seq: s._pos.seq, epoch: s._pos.epoch };
    cn.request(++this._nextID, r, { onReply: (rep) => this._subscribed(cn, s, resume, rep) });
  }

  /**
   * Handles the answer to a sub for s on cn, before any publication that
   * follows it.
   * @private
   * @param {Conn} cn
   * @param {Subscription} s
   * @param {boolean} resume
   * @param {Reply} rep
   */
  _subscribed(cn, s, resume, rep) {
    if (this._subs.get(s.channel) !== s) return; // unsubscribed meanwhile
    const res = rep.result;
    let err = rep.error;
    if (!err && (!res || typeof res.seq !== 'number')) err = new WsgateError('internal', `sub answered ${JSON.stringify(res)}`);
    if (err && s._confirmed && TEMPORARY.includes(err.code)) {
      // The server could not restore it now: reconnect and try again.
      cn.fail(1000, `restoring the subscription to ${s.channel}: ${err.message}`);
      return;
    }
    if (err) {
      this._subs.delete(s.channel);
      s._removed = true;
      if (!s._confirmed) {
        s._confirmed = true;
        s._settle(err);
      } else {
        callSafely(s._fn, { kind: 'ended', channel: s.channel, seq: s._pos.seq, epoch: s._pos.epoch, last: { ...s._pos }, error: err });
      }
      return;
    }
    const epoch = typeof res.epoch === 'string' ? res.epoch : '';
    if (!s._known) {
      s._pos = { seq: res.seq, epoch }; // live publications follow
      s._known = true;
    } else if (resume && (res.recovered !== true || epoch !== s._pos.epoch)) {
      const last = { ...s._pos };
      if (epoch !== s._pos.epoch) s._pos = { seq: 0, epoch }; // numbering restarted
      s._skip = true;
      s._push({ kind: 'gap', channel: s.channel, seq: res.seq, epoch, last });
    }
    if (!s._confirmed) {
      s._confirmed = true;
      s._settle(null);
    }
  }

  /**
   * Hands a publication to its subscription's handler unless it was
   * delivered already. A publication of another epoch than the
   * subscription's: when it knew none (it began on an empty channel) the
   * epoch is learnt; when it knew another, the numbering restarted, and
   * the handler is told of a gap.
   * @private
   * @param {string} channel
   * @param {number} seq
   * @param {string} epoch
   * @param {unknown} data
   */
  _deliver(channel, seq, epoch, data) {
    const s = this._subs.get(channel);
    if (!s || !s._known) return; // not subscribed, or not yet positioned
    if (epoch && epoch !== s._pos.epoch) {
      if (s._pos.epoch) {
        const last = { ...s._pos };
        s._pos = { seq: 0, epoch };
        s._skip = true;
        s._push({ kind: 'gap', channel, seq: 0, epoch, last });
      } else s._pos.epoch = epoch;
    }
    if (seq <= s._pos.seq) return; // a duplicate
    if (seq > s._pos.seq + 1 && !s._skip) {
      // The server skipped publications on a live connection.
      s._push({ kind: 'gap', channel, seq: seq - 1, epoch: s._pos.epoch, last: { ...s._pos } });
    }
    s._skip = false;
    s._pos.seq = seq;
    s._push({ kind: 'publication', channel, seq, epoch: s._pos.epoch, data });
  }

  /**
   * Handles a text message from the server on cn. Anything that is not a
   * reply to a request of cn, a publication or the node's request for a
   * fresh token is ignored (so is {"auth":{"user","exp"}}, which only
   * says who the token named).
   * @internal
   * @param {Conn} cn
   * @param {unknown} text
   */
  _onMessage(cn, text) {
    if (typeof text !== 'string') return;
    const m = parseJSON(text);
    if (!m || typeof m !== 'object' || Array.isArray(m)) return;
    if (m.auth === 'refresh') {
      this._refresh(cn);
      return;
    }
    if (typeof m.ch === 'string' && m.ch !== '') {
      if (typeof m.seq === 'number' && Number.isSafeInteger(m.seq) && m.seq >= 0) {
        this._deliver(m.ch, m.seq, typeof m.epoch === 'string' ? m.epoch : '', m.data);
      }
      return;
    }
    const p = typeof m.id === 'number' ? cn.pending.get(m.id) : undefined;
    if (!p) return; // not ours, or its caller gave up
    cn.pending.delete(m.id);
    /** @type {Reply} */
    const rep = { result: m.result };
    if (m.error && typeof m.error === 'object') {
      rep.error = new WsgateError(String(m.error.code || 'internal'), String(m.error.message || ''));
    }
    if (p.onReply) p.onReply(rep);
    else if (rep.error) p.reject?.(rep.error);
    else p.resolve?.(rep.result);
    if (cn.retiring) cn.retire();
  }
}

/**
 * A client's subscription to one channel. It survives reconnections.
 */
export class Subscription {
  /**
   * @param {Client} client
   * @param {string} channel
   * @param {(m: Message) => void} fn
   */
  constructor(client, channel, fn) {
    /** @private */ this._c = client;
    /** The channel's name. */
    this.channel = channel;
    /** @internal */ this._fn = fn;
    /** @internal @type {Position} of the last publication handed to fn */ this._pos = { seq: 0, epoch: '' };
    /** @internal */ this._known = false; // _pos is set
    /** @internal */ this._confirmed = false;
    /** @internal */ this._removed = false;
    /** @internal */ this._skip = false; // a gap was reported: the next publication may skip seqs
    /** @internal @type {(err: WsgateError | null | undefined) => void} */ this._settle = () => {};
    /** @internal @type {Promise<void>} */
    this._settled = new Promise((resolve, reject) => {
      this._settle = (err) => (err ? reject(err) : resolve());
    });
    this._settled.catch(() => {});
  }

  /**
   * The position of the last publication delivered: pass it as `since`
   * to a later subscribe to resume from there.
   * @returns {Position}
   */
  get position() {
    return { ...this._pos };
  }

  /**
   * Ends the subscription: fn is not called again. Waits for the server's
   * answer; a lost connection is no error, since the subscription ends
   * with it.
   * @param {WaitOptions} [opts]
   * @returns {Promise<void>}
   */
  async unsubscribe(opts) {
    const c = this._c;
    this._removed = true;
    // @ts-ignore: the client's own state
    const subs = c._subs, cn = c._conn;
    if (subs.get(this.channel) !== this) return;
    subs.delete(this.channel);
    if (!cn) return;
    // @ts-ignore
    const id = ++c._nextID;
    const answered = new Promise((resolve) => cn.request(id, { unsub: this.channel }, { resolve, reject: resolve }) || resolve(undefined));
    const stop = deadline(opts, c);
    try {
      await Promise.race([answered, cn.gone, stop.p]);
    } finally {
      cn.pending.delete(id);
      stop.clear();
    }
  }

  /**
   * @internal
   * @param {Message} m
   */
  _push(m) {
    // @ts-ignore
    if (!this._removed && !this._c._closed) callSafely(this._fn, m);
  }
}

/**
 * @typedef {{ result?: any, error?: WsgateError }} Reply
 * @typedef {{ resolve?: (v: any) => void, reject?: (e: any) => void, onReply?: (r: Reply) => void }} Pending
 */

/** One WebSocket connection to a node. */
class Conn {
  /**
   * @param {Client} client
   * @param {string} url the node's base URL
   * @param {WebSocket} ws
   */
  constructor(client, url, ws) {
    this.url = url;
    this.ws = ws;
    /** @type {Map<number, Pending>} */
    this.pending = new Map();
    this.lastRead = Date.now();
    this.pingAt = 0;
    this.code = 0;
    this.reason = '';
    this.retiring = false;
    this.ended = false;
    /** @type {(v?: any) => void} */
    let opened = () => {};
    /** @type {(v?: any) => void} */
    let gone = () => {};
    /** @type {(v?: any) => void} */
    let closed = () => {};
    /** Resolves when the handshake is done. */
    this.opened = new Promise((r) => (opened = r));
    /** Resolves when the connection ended for the client (fail or close). */
    this.gone = new Promise((r) => (gone = r));
    /** Resolves when the socket closed. */
    this.closed = new Promise((r) => (closed = r));
    this._gone = gone;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retireTimer = undefined;
    this._client = client;
    client['_conns'].add(this);
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => opened());
    ws.addEventListener('message', (e) => {
      this.lastRead = Date.now();
      client._onMessage(this, e.data);
    });
    ws.addEventListener('close', (e) => {
      closed();
      this.fail(e.code, e.reason);
    });
    ws.addEventListener('error', () => {}); // a close event follows
  }

  /**
   * Sends request r with id; false when the socket is not open.
   * @param {number} id
   * @param {Record<string, unknown>} r
   * @param {Pending} p
   */
  request(id, r, p) {
    const text = JSON.stringify({ id, ...r }); // may throw (a BigInt, a cycle): the caller's error
    if (this.ended || this.ws.readyState !== 1) return false;
    this.pending.set(id, p);
    this.ws.send(text);
    return true;
  }

  /**
   * Ends the connection now (once), for code and reason: requests waiting
   * on it fail with connection_lost, gone resolves, and the socket is
   * closed with 1000 (a browser sends no other code below 3000) in the
   * background.
   * @param {number} code
   * @param {string} reason
   */
  fail(code, reason) {
    if (this.ended) return;
    this.ended = true;
    this.code = code;
    this.reason = reason;
    clearTimeout(this.retireTimer);
    if (this.ws.readyState <= 1) {
      try {
        this.ws.close(1000);
      } catch {}
    }
    this._client['_conns'].delete(this);
    this._client['_detach'](this);
    const err = new WsgateError('connection_lost', `${this.url}: connection ended (${code}${reason ? ' ' + reason : ''})`);
    for (const p of this.pending.values()) p.reject?.(err);
    this.pending.clear();
    this._gone();
  }

  /** Closes the connection once no call or publication waits on it, or after MOVE_GRACE. */
  retire() {
    if (!this.retiring) {
      this.retiring = true;
      this.retireTimer = setTimeout(() => this.fail(1000, 'moved to a nearer node'), MOVE_GRACE);
    }
    for (const p of this.pending.values()) if (!p.onReply) return;
    this.fail(1000, 'moved to a nearer node');
  }
}

// ---- choosing a node (as the Go client's select.go) ----

/**
 * What probing one node found.
 * @typedef {object} Probe
 * @property {string} url
 * @property {string} node
 * @property {string} region
 * @property {number} conns
 * @property {boolean} draining
 * @property {number[]} rtts ms, one per probe that was answered
 */

/**
 * A node as the last round of probing found it (Client.nodes).
 * @typedef {object} NodeTiming
 * @property {string} url the node's base URL
 * @property {string} node its id, when known
 * @property {string} region its region, when known
 * @property {number} conns its connections, as it last said
 * @property {boolean} draining
 * @property {number} rtt the median round trip of its probes, ms; -1 when it answered none
 */

/**
 * A node as /edge/nodes lists it.
 * @typedef {{ url: string, node: string, region: string, conns: number, draining: boolean }} Node
 */

/**
 * The median of rtts (the lower middle one for an even count), or -1 when empty.
 * @param {number[]} rtts
 */
function median(rtts) {
  if (rtts.length === 0) return -1;
  const s = [...rtts].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}

/**
 * Whether a node with median cand is clearly nearer than one with cur:
 * by switchMargin and by switchRatio, both.
 * @param {number} cand
 * @param {number} cur
 * @param {{ switchMargin: number, switchRatio: number }} m
 */
function clearlyBetter(cand, cur, m) {
  return cur - cand >= m.switchMargin && cand <= cur * (1 - m.switchRatio);
}

/**
 * Orders the nodes a client may connect to, best first; draining ones
 * are left out. Of the nodes that answered, repeatedly, those the fastest
 * is not clearly nearer than are equals and the one with the fewest
 * connections goes next (then the lower median, then the URL). Nodes
 * that answered no probe follow in their order: still worth a try.
 * @param {Probe[]} results
 * @param {{ switchMargin: number, switchRatio: number }} m
 * @returns {Probe[]}
 */
function rank(results, m) {
  /** @type {{ r: Probe, med: number }[]} */
  const answered = [];
  /** @type {Probe[]} */
  const silent = [];
  for (const r of results) {
    if (r.draining) continue;
    const med = median(r.rtts);
    if (med >= 0) answered.push({ r, med });
    else silent.push(r);
  }
  const out = [];
  while (answered.length > 0) {
    const fastest = Math.min(...answered.map((a) => a.med));
    let best = -1;
    answered.forEach((a, i) => {
      if (clearlyBetter(fastest, a.med, m)) return; // not an equal of the fastest
      const b = answered[best];
      if (best < 0 || a.r.conns < b.r.conns || (a.r.conns === b.r.conns && (a.med < b.med || (a.med === b.med && a.r.url < b.r.url)))) best = i;
    });
    out.push(answered.splice(best, 1)[0].r);
  }
  return out.concat(silent);
}

/**
 * The node to use from a ranking given the one in use (current, '' for
 * none): current stays unless it left the ranking, answered no probe, or
 * the best is clearly nearer. That hysteresis keeps clients from flapping.
 * @param {Probe[]} ranked
 * @param {string} current
 * @param {{ switchMargin: number, switchRatio: number }} m
 */
function choose(ranked, current, m) {
  if (ranked.length === 0) return '';
  const best = ranked[0], bestMed = median(best.rtts);
  if (bestMed < 0 || !current || current === best.url) return best.url;
  const cur = ranked.find((r) => r.url === current);
  if (!cur) return best.url;
  const curMed = median(cur.rtts);
  return curMed < 0 || clearlyBetter(bestMed, curMed, m) ? best.url : current;
}

/**
 * What Client.nodes reports of a round of probes: each node with its
 * median, nearest first, those that answered none last.
 * @param {Probe[]} results
 * @returns {NodeTiming[]}
 */
function timings(results) {
  const out = results.map((r) => ({ url: r.url, node: r.node, region: r.region, conns: r.conns, draining: r.draining, rtt: median(r.rtts) }));
  const key = (/** @type {NodeTiming} */ n) => (n.rtt < 0 ? Infinity : n.rtt);
  return out.sort((a, b) => key(a) - key(b));
}

/**
 * The URLs of ranked with chosen first: the order to try nodes in.
 * @param {Probe[]} ranked
 * @param {string} chosen
 */
function order(ranked, chosen) {
  const urls = chosen ? [chosen] : [];
  for (const r of ranked) if (r.url !== chosen) urls.push(r.url);
  return urls;
}

/**
 * The wait before reconnection attempt n (0 for the first after a
 * failure): lo doubled n times, at most hi; half of it fixed and half
 * scaled by r in [0, 1), so the clients of a failed node do not all
 * return in the same instant.
 * @param {number} n
 * @param {number} lo
 * @param {number} hi
 * @param {number} r
 */
function backoff(n, lo, hi, r) {
  let d = lo;
  for (let i = 0; i < n && d < hi; i++) d *= 2;
  d = Math.min(d, hi);
  return d / 2 + r * (d / 2);
}

/**
 * How long a connection must stay up for the attempt count to start
 * over, ms. A network that drops every few seconds still gives
 * connections that long, so its clients keep short waits; a node that
 * drops its clients on connect never does, so they keep backing off.
 */
const stableAfter = 2000;

/**
 * Whether a connection that lived this long, ms, starts the attempt count
 * over: it stayed up stableAfter, or max when max is less.
 * @param {number} lived
 * @param {number} max
 */
function stable(lived, max) {
  return lived >= Math.min(stableAfter, max);
}

// ---- discovery (as the Go client's discover.go) ----

/**
 * Asks every seed at once for /edge/nodes; resolves with the first
 * non-empty list (the nearest seed's, as a rule) and cancels the others,
 * or [] when none answers with one.
 * @param {string[]} seeds
 * @param {AbortSignal} signal
 * @returns {Promise<Node[]>}
 */
async function discover(seeds, signal) {
  const ctl = new AbortController();
  const abort = () => ctl.abort();
  signal.addEventListener('abort', abort);
  try {
    return await new Promise((resolve) => {
      let left = seeds.length;
      for (const seed of seeds) {
        fetch(seed + '/edge/nodes', { cache: 'no-store', signal: ctl.signal })
          .then((res) => (res.ok ? res.json() : null))
          .then((list) => {
            const nodes = Array.isArray(list) ? list.map(node).filter((n) => n !== null) : [];
            for (const n of nodes) n.url = tryBaseURL(n.url);
            if (nodes.length > 0) resolve(nodes);
          })
          .catch(() => {})
          .finally(() => --left === 0 && resolve([]));
      }
    });
  } finally {
    ctl.abort();
    signal.removeEventListener('abort', abort);
  }
}

/**
 * The fields of a node from /edge/nodes or /edge/ping, or null.
 * @param {any} v
 * @returns {Node | null}
 */
function node(v) {
  if (!v || typeof v !== 'object') return null;
  const str = (/** @type {unknown} */ x) => (typeof x === 'string' ? x : '');
  return { url: str(v.url), node: str(v.node), region: str(v.region), conns: typeof v.conns === 'number' ? v.conns : 0, draining: v.draining === true };
}

/**
 * The nodes to probe: those listed with a URL, then the seeds not among
 * them, each URL once.
 * @param {Node[]} listed
 * @param {string[]} seeds
 * @returns {Node[]}
 */
function candidates(listed, seeds) {
  const seen = new Set(), out = [];
  for (const n of listed) {
    if (n.url && !seen.has(n.url)) {
      seen.add(n.url);
      out.push(n);
    }
  }
  for (const url of seeds) {
    if (!seen.has(url)) {
      seen.add(url);
      out.push({ url, node: '', region: '', conns: 0, draining: false });
    }
  }
  return out;
}

/**
 * Folds results that are one node reached at two URLs (same id) into the
 * first, and marks draining every result whose id the list says drains.
 * @param {Probe[]} results
 * @param {Node[]} listed
 */
function merge(results, listed) {
  const draining = new Set(listed.filter((n) => n.draining && n.node).map((n) => n.node));
  /** @type {Map<string, Probe>} */
  const first = new Map();
  const out = [];
  for (const r of results) {
    if (!r.node) {
      out.push(r);
      continue;
    }
    r.draining = r.draining || draining.has(r.node);
    const f = first.get(r.node);
    if (f) f.draining = f.draining || r.draining;
    else {
      first.set(r.node, r);
      out.push(r);
    }
  }
  return out;
}

// ---- small helpers ----

/**
 * A node or seed URL normalised: http or https (ws and wss taken for
 * them), a host, a path without a trailing slash.
 * @param {string} s
 */
function baseURL(s) {
  let u;
  try {
    u = new URL(String(s).trim());
  } catch {
    throw new TypeError(`wsgate: seed ${JSON.stringify(s)} is not a URL`);
  }
  const scheme = { 'http:': 'http:', 'https:': 'https:', 'ws:': 'http:', 'wss:': 'https:' }[u.protocol];
  if (!scheme || !u.host) throw new TypeError(`wsgate: seed ${JSON.stringify(s)}: want http, https, ws or wss and a host`);
  return `${scheme}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** @param {string} s */
function tryBaseURL(s) {
  try {
    return baseURL(s);
  } catch {
    return '';
  }
}

/**
 * The WebSocket URL of the node at base: ws or wss, and /ws after its path.
 * @param {string} base
 */
function wsURL(base) {
  return base.replace(/^http/, 'ws') + '/ws';
}

/**
 * @param {Options} o
 * @returns {Required<Omit<Options, 'onState' | 'token'>> & Pick<Options, 'onState'> & { token: Options['token'] | null }}
 */
function withDefaults(o) {
  const pos = (/** @type {number | undefined} */ v, /** @type {number} */ d) => (typeof v === 'number' && v > 0 ? v : d);
  const backoffMin = pos(o.backoffMin, 250);
  let storage = o.storage;
  if (storage === undefined) {
    try {
      storage = globalThis.localStorage || null;
    } catch {
      storage = null; // a sandboxed page may refuse access
    }
  }
  return {
    probes: pos(o.probes, 3),
    probeTimeout: pos(o.probeTimeout, 2000),
    reprobeInterval: o.reprobeInterval === undefined || o.reprobeInterval === 0 ? 300000 : o.reprobeInterval,
    switchMargin: pos(o.switchMargin, 20),
    switchRatio: typeof o.switchRatio === 'number' && o.switchRatio > 0 && o.switchRatio < 1 ? o.switchRatio : 0.3,
    backoffMin,
    backoffMax: Math.max(pos(o.backoffMax, 5000), backoffMin),
    dialTimeout: pos(o.dialTimeout, 10000),
    pingInterval: pos(o.pingInterval, 20000),
    onState: o.onState,
    token: typeof o.token === 'function' ? o.token : null,
    WebSocket: o.WebSocket || globalThis.WebSocket,
    storage,
  };
}

/**
 * A promise that rejects when opts' timeout passes (code timeout), its
 * signal aborts (code aborted) or the client closes (code closed); clear
 * stops watching.
 * @param {WaitOptions | undefined} opts
 * @param {Client} client
 */
function deadline(opts, client) {
  let clear = () => {};
  /** @type {Promise<never>} */
  const p = new Promise((_, reject) => {
    const { timeout, signal } = opts || {};
    const onAbort = () => reject(new WsgateError('aborted', 'aborted', signal && signal.reason));
    const onClose = () => client['_closed'] && reject(new WsgateError('closed', 'client closed'));
    const timer = timeout && timeout > 0 ? setTimeout(() => reject(new WsgateError('timeout', `no answer within ${timeout} ms`)), timeout) : undefined;
    if (signal) {
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    client['_waiters'].add(onClose);
    onClose();
    clear = () => {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
      client['_waiters'].delete(onClose);
    };
  });
  p.catch(() => {});
  return { p, clear };
}

/**
 * Calls fn(v); an exception is reported (reportError where there is one)
 * and does not stop the client.
 * @template T
 * @param {(v: T) => void} fn
 * @param {T} v
 */
function callSafely(fn, v) {
  try {
    fn(v);
  } catch (e) {
    if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
    else console.error(e);
  }
}

/** @param {string} s */
function parseJSON(s) {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function now() {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}


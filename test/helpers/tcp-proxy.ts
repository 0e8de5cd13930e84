/**
 * A TCP proxy that makes a slow, lossy WAN between the daemon and a cluster: every chunk is held
 * `delayMs` in each direction (order preserved), each direction is capped at `bytesPerSecond`, and
 * connections are cut at random — a seeded PRNG draws, per chunk, whether to reset both sides — so
 * a failing run can be replayed with its seed.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { mulberry32 } from './prng.js';

export interface TcpProxyOptions {
  /** Where connections go, e.g. `{ host: '127.0.0.1', port: 9200 }`. */
  readonly target: { readonly host: string; readonly port: number };
  /** Latency added to every chunk, each way. */
  readonly delayMs: number;
  /** Bandwidth of each direction of each connection. */
  readonly bytesPerSecond: number;
  /** Chance that a chunk, instead of being delivered, cuts its connection (both sides reset). */
  readonly cutProbability: number;
  readonly seed: number;
}

export interface TcpProxyStats {
  connections: number;
  cuts: number;
  /** Bytes delivered towards the target (requests) and back (responses). */
  bytesUp: number;
  bytesDown: number;
}

export class TcpProxy {
  readonly stats: TcpProxyStats = { connections: 0, cuts: 0, bytesUp: 0, bytesDown: 0 };
  readonly #server: Server;
  readonly #random: () => number;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  #blocked = false;

  private constructor(private readonly opts: TcpProxyOptions) {
    this.#random = mulberry32(opts.seed);
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free loopback port. */
  static async start(opts: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(opts);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * A partition: while blocked, every connection is cut and new ones are closed at once (as a
   * network that drops everything); unblocked, connections go through again.
   */
  set blocked(value: boolean) {
    this.#blocked = value;
    if (value) for (const socket of this.#sockets) socket.destroy();
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#closed || this.#blocked) {
      client.destroy();
      return;
    }
    this.stats.connections += 1;
    const upstream = new Socket();
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.setNoDelay(true);
      // A reset or refused connection ends both sides; the peer sees the error, as on a real WAN.
      s.on('error', () => cut(false));
      s.on('close', () => this.#sockets.delete(s));
    }
    let done = false;
    const cut = (byProxy: boolean): void => {
      if (done) return;
      done = true;
      if (byProxy) this.stats.cuts += 1;
      for (const s of [client, upstream]) s.resetAndDestroy();
    };
    this.#pipe(client, upstream, 'bytesUp', cut);
    this.#pipe(upstream, client, 'bytesDown', cut);
    upstream.connect(this.opts.target.port, this.opts.target.host);
  }

  /**
   * Delivers `from`'s chunks to `to`, each no earlier than `delayMs` after it arrived and no earlier
   * than the previous chunk's delivery plus the time its bytes take at `bytesPerSecond`. One queue
   * and one timer per direction, so order is kept whatever the timers do; reading pauses while
   * too much waits, as a slow link would. `null` in the queue is the peer's half-close.
   */
  #pipe(from: Socket, to: Socket, counter: 'bytesUp' | 'bytesDown', cut: (byProxy: boolean) => void): void {
    const queue: { at: number; chunk: Buffer | null }[] = [];
    let nextFree = 0;
    let queued = 0;
    const highWater = Math.max(64 * 1024, this.opts.bytesPerSecond);
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      if (timer) this.#timers.delete(timer);
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) continue;
        if (chunk === null) {
          to.end();
          continue;
        }
        queued -= chunk.length;
        this.stats[counter] += chunk.length;
        to.write(chunk);
      }
      if (queued <= highWater && from.isPaused()) from.resume();
      if (queue.length > 0) {
        timer = setTimeout(drain, Math.max(0, queue[0]!.at - Date.now()));
        this.#timers.add(timer);
      }
    };
    const enqueue = (chunk: Buffer | null): void => {
      const now = Date.now();
      const at = Math.max(now + this.opts.delayMs, nextFree);
      if (chunk) nextFree = at + (chunk.length / this.opts.bytesPerSecond) * 1000;
      queue.push({ at, chunk });
      if (!timer) {
        timer = setTimeout(drain, at - now);
        this.#timers.add(timer);
      }
    };
    from.on('data', (chunk: Buffer) => {
      if (this.#random() < this.opts.cutProbability) {
        cut(true);
        return;
      }
      queued += chunk.length;
      if (queued > highWater) from.pause();
      enqueue(chunk);
    });
    from.on('end', () => enqueue(null));
  }
}

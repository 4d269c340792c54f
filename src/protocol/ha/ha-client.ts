// The slave's end of replication: connects to its master's HA address (from the NameServer's answer to its
// registration, or configured), reports where its commit log ends, stores every frame of records in order and
// reports again after each, and every heartbeatMs while idle. Reconnects reconnectMs after a loss; a master
// silent for housekeepingMs counts as lost.
import { connect } from "node:net";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions } from "node:tls";
import type { ReplicaChunk } from "../../store/message-store.js";
import { parseAddress } from "../remoting/client.js";
import type { RemotingLogger } from "../remoting/logger.js";
import { silentLogger } from "../remoting/logger.js";
import type { SessionCredentials } from "../../common/acl-signature.js";
import { FrameDecoder, encodeHello, encodeOffsetReport } from "./ha-codec.js";
import type { HaTimings, TransferFrame } from "./ha-codec.js";

export interface ReplicaSink {
  /** Where the slave's commit log ends. */
  writtenOffset(): number;
  /** Stores a chunk of the master's records; resolves with the new end. */
  appendReplica(chunk: ReplicaChunk): Promise<number>;
}

export interface HaClientTimings extends HaTimings {
  reconnectMs: number;
}

/** Frames waiting to be stored before the socket is paused. */
const MAX_QUEUED_FRAMES = 64;

export class HaClient {
  private masterAddr: string | undefined;
  private socket: Socket | undefined;
  private decoder = new FrameDecoder();
  private readonly queue: TransferFrame[] = [];
  private storing = false;
  private lastRead = 0;
  private lastReport = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextConnectAt = 0;
  private stopped = false;

  constructor(
    private readonly sink: ReplicaSink,
    private readonly timings: HaClientTimings,
    private readonly logger: RemotingLogger = silentLogger,
    /** The account a master with access control on wants proven (an admin one); none: no hello. */
    private readonly credentials?: SessionCredentials,
    /** Connect over TLS with these options (a master under enforcing TLS). */
    private readonly tls?: ConnectionOptions,
  ) {}

  /** The master's HA address ("host:port"); undefined pauses replication (no master known). */
  setMasterAddress(addr: string | undefined): void {
    if (addr === this.masterAddr) return;
    this.logger.info({ from: this.masterAddr, to: addr }, "HA master address changed");
    this.masterAddr = addr;
    this.socket?.destroy();
    this.nextConnectAt = 0;
    this.tick();
  }

  get masterAddress(): string | undefined {
    return this.masterAddr;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.connecting && !this.socket.destroyed;
  }

  start(): void {
    const every = Math.max(50, Math.min(this.timings.heartbeatMs, this.timings.reconnectMs, 1000));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.socket?.destroy();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    const s = this.socket;
    if (!s) {
      if (this.masterAddr && now >= this.nextConnectAt) this.open(this.masterAddr);
      return;
    }
    if (s.connecting) return;
    if (now - this.lastRead > this.timings.housekeepingMs) {
      this.logger.warn({ master: this.masterAddr }, "HA master silent too long, reconnecting");
      s.destroy();
      return;
    }
    if (now - this.lastReport >= this.timings.heartbeatMs) this.report();
  }

  private open(addr: string): void {
    let host: string;
    let port: number;
    try {
      ({ host, port } = parseAddress(addr));
    } catch (e) {
      this.logger.error({ addr, err: (e as Error).message }, "bad HA master address");
      this.nextConnectAt = Date.now() + this.timings.reconnectMs;
      return;
    }
    const s: Socket = this.tls ? tlsConnect({ ...this.tls, host, port }) : connect({ host, port });
    this.socket = s;
    this.decoder = new FrameDecoder();
    this.queue.length = 0;
    s.setNoDelay(true);
    s.on(this.tls ? "secureConnect" : "connect", () => {
      this.lastRead = Date.now();
      const c = this.credentials;
      if (c) s.write(encodeHello(c.accessKey, c.secretKey, Date.now()));
      this.report();
    });
    s.on("data", (chunk: Buffer) => {
      this.lastRead = Date.now();
      let frames: TransferFrame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, "bad data from the HA master");
        s.destroy();
        return;
      }
      for (const f of frames) if (f.data.length > 0) this.queue.push(f);
      if (this.queue.length > MAX_QUEUED_FRAMES) s.pause();
      void this.store(s);
    });
    s.on("error", (e) => {
      this.logger.debug({ master: addr, err: e.message }, "HA connection error");
    });
    s.on("close", () => {
      if (this.socket === s) this.socket = undefined;
      this.nextConnectAt = Date.now() + this.timings.reconnectMs;
    });
  }

  /** Stores queued frames one after another; each stored frame is reported. */
  private async store(s: Socket): Promise<void> {
    if (this.storing) return;
    this.storing = true;
    try {
      while (this.queue.length > 0 && this.socket === s) {
        const f = this.queue.shift()!;
        try {
          await this.sink.appendReplica({ offset: f.offset, data: f.data });
        } catch (e) {
          this.logger.error(
            { err: (e as Error).message, offset: f.offset },
            "storing the master's records failed",
          );
          s.destroy();
          return;
        }
        if (this.socket === s) this.report();
        if (this.queue.length <= MAX_QUEUED_FRAMES / 2 && s.isPaused()) s.resume();
      }
    } finally {
      this.storing = false;
    }
    // Frames of a newer connection that arrived while this loop finished the old one's.
    const cur = this.socket;
    if (cur && cur !== s && this.queue.length > 0) void this.store(cur);
  }

  private report(): void {
    const s = this.socket;
    if (!s || s.destroyed || s.connecting) return;
    s.write(encodeOffsetReport(this.sink.writtenOffset()));
    this.lastReport = Date.now();
  }
}

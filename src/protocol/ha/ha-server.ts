// The master's end of replication: a TCP listener (haListenPort, 10912 by default) for slaves. Each slave first
// reports where its commit log ends; from there the master streams whole records as they are written, as fast
// as the slave's socket takes them, and hears back how far the slave has stored (SYNC_MASTER sends wait for it).
// A slave silent for housekeepingMs is dropped; an idle master sends a heartbeat every heartbeatMs.
import { timingSafeEqual } from "node:crypto";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import type { AccessControl } from "../../broker/acl/access-control.js";
import type { SlaveTracker } from "../../broker/slave-acks.js";
import { BrokerError } from "../../common/errors.js";
import type { ReplicaChunk } from "../../store/message-store.js";
import type { RemotingLogger } from "../remoting/logger.js";
import { tlsAcceptor } from "../tls-sniff.js";
import type { TlsAcceptor, TlsOption } from "../tls-sniff.js";
import { silentLogger } from "../remoting/logger.js";
import { OffsetReportDecoder, encodeFrameHeader, helloSignature, readHello } from "./ha-codec.js";
import type { HaHello, HaTimings } from "./ha-codec.js";

export interface ReplicaSource {
  readReplica(from: number, maxBytes: number): ReplicaChunk | undefined;
  /** The end of what is written (what a slave can have at most). */
  writtenOffset(): number;
  onWritten(listener: () => void): void;
}

/** Bytes of records per frame (RocketMQ's haTransferBatchSize is 32 KiB; bigger frames cost fewer wake-ups). */
const TRANSFER_BATCH_BYTES = 256 * 1024;

/** How far a hello's time may be from the master's clock. */
const HELLO_SKEW_MS = 5 * 60_000;

class SlaveConnection {
  /** Where the next frame starts; -1 until the slave's first report. */
  next = -1;
  lastRead = Date.now();
  lastWrite = Date.now();
  private readonly reports = new OffsetReportDecoder();
  /** Bytes before the hello (or its absence) is known; undefined once it is. */
  private opening: Buffer | undefined = Buffer.alloc(0);

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly source: ReplicaSource,
    private readonly tracker: SlaveTracker,
    private readonly logger: RemotingLogger,
    private readonly acl: AccessControl | undefined,
  ) {}

  onData(chunk: Buffer): void {
    this.lastRead = Date.now();
    if (this.opening !== undefined) {
      const opened = readHello(this.opening.length === 0 ? chunk : Buffer.concat([this.opening, chunk]));
      if (opened === undefined) {
        this.opening = Buffer.concat([this.opening, chunk]);
        return;
      }
      this.opening = undefined;
      if (!this.admitted(opened.hello)) return;
      if (opened.rest.length === 0) return;
      chunk = opened.rest;
    }
    const reported = this.reports.push(chunk);
    if (reported === undefined) return;
    if (this.next < 0) {
      const end = this.source.writtenOffset();
      if (reported > end) {
        this.fail(`the slave's commit log ends at ${reported}, past this master's ${end}: it diverged`);
        return;
      }
      this.next = reported;
      this.logger.info({ slave: this.socket.remoteAddress, from: reported }, "slave connected");
    }
    this.tracker.slaveAcked(this.id, reported);
    this.pump();
  }

  // With access control on, only a slave proving an admin account is served: the log holds every message.
  private admitted(hello: HaHello | undefined): boolean {
    const acl = this.acl;
    if (acl === undefined || !acl.enabled) return true;
    // AccessControl's address matching reads Node's "::ffff:1.2.3.4" form of IPv4 peers itself.
    const ip = this.socket.remoteAddress ?? "";
    try {
      if (hello !== undefined && Math.abs(Date.now() - hello.timeMs) > HELLO_SKEW_MS)
        throw new Error(`its hello's time is more than ${HELLO_SKEW_MS / 60_000} minutes off`);
      acl.check(
        {
          accessKey: hello?.accessKey,
          ip,
          signedWith: (secret) => {
            const want = helloSignature(secret, hello!.accessKey, hello!.timeMs);
            return want.length === hello!.signature.length && timingSafeEqual(want, hello!.signature);
          },
        },
        { admin: true },
      );
      return true;
    } catch (e) {
      this.fail(`access control: ${(e as Error).message}`);
      return false;
    }
  }

  /** Sends what is written past `next` while the socket takes it. */
  pump(): void {
    if (this.next < 0 || this.socket.destroyed) return;
    while (!this.socket.writableNeedDrain) {
      let chunk: ReplicaChunk | undefined;
      try {
        chunk = this.source.readReplica(this.next, TRANSFER_BATCH_BYTES);
      } catch (e) {
        const msg = (e as Error).message;
        if (e instanceof BrokerError && e.code === "REPLICA_OUT_OF_SYNC") this.fail(msg);
        else this.logger.warn({ err: msg, from: this.next }, "replication read failed, will retry");
        return;
      }
      if (!chunk) return;
      this.socket.write(encodeFrameHeader(chunk.offset, chunk.data.length));
      this.socket.write(chunk.data);
      this.next = chunk.offset + chunk.data.length;
      this.lastWrite = Date.now();
    }
  }

  tick(now: number, t: HaTimings): void {
    if (now - this.lastRead > t.housekeepingMs) {
      this.logger.warn({ slave: this.socket.remoteAddress }, "slave silent too long, dropped");
      this.socket.destroy();
      return;
    }
    if (this.next >= 0 && now - this.lastWrite >= t.heartbeatMs && !this.socket.writableNeedDrain) {
      this.socket.write(encodeFrameHeader(this.next, 0));
      this.lastWrite = now;
    }
  }

  private fail(reason: string): void {
    this.logger.error({ slave: this.socket.remoteAddress, reason }, "replication refused");
    this.socket.destroy();
  }
}

export class HaServer {
  private server: Server | undefined;
  private readonly conns = new Set<SlaveConnection>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private acceptor: TlsAcceptor | undefined;

  constructor(
    private readonly source: ReplicaSource,
    private readonly tracker: SlaveTracker,
    private readonly timings: HaTimings,
    private readonly logger: RemotingLogger = silentLogger,
    /** With access control on, slaves must open with a hello proving an admin account. */
    private readonly acl?: AccessControl,
    /** TLS beside or instead of plaintext, as on the other ports. */
    private readonly tls?: TlsOption,
  ) {
    source.onWritten(() => {
      for (const c of this.conns) c.pump();
    });
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(port: number, host: string): Promise<number> {
    const tls = this.tls;
    if (tls !== undefined && tls.mode !== "disabled")
      this.acceptor = tlsAcceptor(
        tls,
        (s) => this.accept(s),
        (msg, err) => this.logger.warn({ err }, `HA port: ${msg}`),
      );
    const acceptor = this.acceptor;
    const server = createServer(acceptor ? (s) => acceptor.accept(s) : (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    this.boundPort = typeof addr === "object" && addr ? addr.port : port;
    const every = Math.max(50, Math.min(this.timings.heartbeatMs, 1000));
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const c of this.conns) c.tick(now, this.timings);
    }, every);
    this.timer.unref();
    return this.boundPort;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const c = new SlaveConnection(this.nextId++, socket, this.source, this.tracker, this.logger, this.acl);
    this.conns.add(c);
    socket.on("data", (chunk: Buffer) => {
      try {
        c.onData(chunk);
      } catch (e) {
        this.logger.warn({ err: (e as Error).message }, "bad data from a slave, connection closed");
        socket.destroy();
      }
    });
    socket.on("drain", () => c.pump());
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.conns.delete(c);
      this.tracker.slaveGone(c.id);
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.acceptor?.close();
    for (const c of this.conns) c.socket.destroy();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

// One TCP connection speaking remoting frames, used on both sides: the server wraps each accepted socket in
// one, the client each socket it opens. Requests and responses share the connection and are matched by
// opaque, so replies may come back in any order (a parked long-poll pull must not hold up a send).
//
// Writes are queued and flushed from a microtask: every response produced in the same callback (one batch of
// incoming data, or one commit-log write that acknowledges many sends) is encoded into one buffer and leaves in
// a single write, which is what makes small responses cheap. A microtask rather than setImmediate: a response
// made inside an immediate (the commit log's write) would otherwise wait for the next turn of the event loop,
// one more epoll round per message, which costs more than the message itself when requests come one at a time
// (syscalls are expensive in a VM). Large bodies are not copied; they go out as their own chunks of a corked
// write.

import type { Socket } from "node:net";
import type { RemotingCommand } from "./command.js";
import { createResponse, FLAG_ONEWAY, FLAG_RESPONSE, SerializeType } from "./command.js";
import { OpaqueTable } from "./opaque-table.js";
import { FrameDecoder, inlinesBody, prepareFrame, writeFrame } from "./frame-codec.js";
import type { PreparedFrame } from "./frame-codec.js";
import { FrameError } from "./frame-error.js";
import type { RemotingLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import { RemotingClosedError, RemotingTimeoutError } from "./remoting-errors.js";
import { ResponseCode } from "./response-code.js";

/** Flushes smaller than this take their buffer from Node's pool and do not keep it. */
const SMALL_WRITE_BYTES = 4 * 1024;
/** Other flush buffers are at least this big, so small flushes share one reusable allocation. */
const MIN_WRITE_BUFFER_BYTES = 64 * 1024;
/** Larger flush buffers are not kept for reuse. */
const MAX_SPARE_BYTES = 4 * 1024 * 1024;

/** How long close() waits for the peer to finish the TCP close before destroying the socket. */
const CLOSE_GRACE_MS = 2000;

export interface ConnectionOptions {
  maxFrameBytes?: number;
  logger?: RemotingLogger;
  /** Called for every incoming request (not for responses, which settle invoke() promises). */
  onRequest: (req: RemotingCommand, conn: RemotingConnection) => void;
}

interface Pending {
  opaque: number;
  resolve: (res: RemotingCommand) => void;
  reject: (err: Error) => void;
  /** performance.now() after which the request times out. */
  deadline: number;
  code: number;
  timeoutMs: number;
}

/** A request is timed out by a sweep up to this early, so a timer that fires on the millisecond tick counts. */
const TIMEOUT_SLACK_MS = 1;

export type CloseListener = (conn: RemotingConnection, err: Error | undefined) => void;

function formatAddress(host: string | undefined, port: number | undefined): string {
  if (host === undefined) return "unknown";
  if (host.startsWith("::ffff:") && host.includes(".")) host = host.slice(7);
  return host.includes(":") ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

export class RemotingConnection {
  /** Peer as "ip:port" ("[v6]:port" for IPv6), which is how RocketMQ names client channels. */
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** Free for the owner: the broker keeps the client id, group and so on here. */
  readonly attributes = new Map<string, unknown>();

  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly logger: RemotingLogger;
  private readonly onRequest: ConnectionOptions["onRequest"];
  private readonly pending = new OpaqueTable<Pending>();
  private readonly closeListeners: CloseListener[] = [];
  private queue: PreparedFrame[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private state: "open" | "closing" | "closed" = "open";
  private closeError: Error | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  /** A write buffer the socket has finished with, kept for the next flush. */
  private spare: Buffer | undefined;
  // One timer for every request's timeout rather than a Timeout object per request (set, then cleared by the
  // response, thousands of times a second): armed for the earliest deadline, it sweeps what has expired and
  // re-arms for the next. It holds the process open only while requests are waiting, as per-request timers did.
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;
  private sweepRefed = false;

  constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.logger = opts.logger ?? silentLogger;
    this.onRequest = opts.onRequest;
    this.decoder = new FrameDecoder(
      opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes },
    );
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.localAddress = formatAddress(socket.localAddress, socket.localPort);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => {
      this.closeError ??= err;
      this.logger.debug({ err, remote: this.remoteAddress }, "socket error");
    });
    // The peer finished sending: nothing more can answer our requests. Node ends our side too (no half-open).
    socket.on("end", () => {
      if (this.state === "open") this.state = "closing";
      this.rejectPending();
    });
    socket.on("close", () => this.onSocketClose());
  }

  /** True once close() was called or the socket went away; send() then drops frames. */
  get closed(): boolean {
    return this.state !== "open";
  }

  /** False while the socket's send buffer is over its high-water mark: a slow reader; callers may hold back. */
  get isWritable(): boolean {
    return this.state === "open" && !this.socket.writableNeedDrain;
  }

  /** Bytes queued in this process and not yet handed to the kernel. */
  get pendingWriteBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /** Number of invoke() calls waiting for a response. */
  get inFlight(): number {
    return this.pending.size;
  }

  onClose(listener: CloseListener): void {
    if (this.state === "closed") queueMicrotask(() => listener(this, this.closeError));
    else this.closeListeners.push(listener);
  }

  /**
   * Queues `cmd` for the next flush. Returns false (and drops it) when the connection is closed. Throws if the
   * command cannot be encoded; nothing is queued then. The body is read at flush time, not copied now: do not
   * reuse its memory until the turn after.
   */
  send(cmd: RemotingCommand): boolean {
    if (this.state !== "open") return false;
    const f = prepareFrame(cmd);
    this.queue.push(f);
    this.queuedBytes += f.frameBytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.scheduledFlush);
    }
    return true;
  }

  /** Sends a request the peer must not answer (flag bit 1). */
  oneway(cmd: RemotingCommand): boolean {
    cmd.flag |= FLAG_ONEWAY;
    return this.send(cmd);
  }

  /** Sends a request and resolves with the response carrying its opaque. */
  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    return new Promise<RemotingCommand>((resolve, reject) => {
      if (this.state !== "open") {
        reject(new RemotingClosedError(this.remoteAddress, { cause: this.closeError }));
        return;
      }
      const opaque = cmd.opaque;
      if (this.pending.has(opaque)) {
        reject(new Error(`a request with opaque ${opaque} is already waiting on ${this.remoteAddress}`));
        return;
      }
      // setTimeout turns anything above 2^31-1 ms (or NaN) into 1 ms; clamp so "very long" stays long.
      const ms = Number.isFinite(timeoutMs) ? Math.min(Math.max(timeoutMs, 1), 0x7fffffff) : 0x7fffffff;
      const deadline = performance.now() + ms;
      this.pending.add({ opaque, resolve, reject, deadline, code: cmd.code, timeoutMs });
      try {
        this.send(cmd);
      } catch (e) {
        this.pending.take(opaque);
        reject(e as Error);
        return;
      }
      this.watchDeadline(deadline);
    });
  }

  /** Flushes what is queued, then ends the connection; the socket is destroyed if the peer does not finish. */
  close(err?: Error): void {
    if (this.state !== "open") return;
    this.state = "closing";
    if (err !== undefined) this.closeError ??= err;
    this.flush();
    this.rejectPending();
    this.socket.end();
    this.killTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.killTimer.unref();
  }

  /** Drops the connection now, discarding queued writes. */
  destroy(err?: Error): void {
    if (err !== undefined) this.closeError ??= err;
    if (this.state === "open") this.state = "closing";
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.rejectPending();
    this.socket.destroy();
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    const q = this.queue;
    if (q.length === 0) return;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) {
      q.length = 0;
      this.queuedBytes = 0;
      return;
    }
    let inlineBytes = 0;
    for (const f of q)
      inlineBytes += inlinesBody(f) ? f.frameBytes : f.frameBytes - (f.cmd.body?.length ?? 0);
    const buf = this.takeWriteBuffer(inlineBytes);
    let off = 0;
    let segment = 0;
    let chunks: Buffer[] | undefined;
    /** onWritten of bodies written as their own chunks: the socket holds them until the write completes. */
    let written: (() => void)[] | undefined;
    for (const f of q) {
      const inline = inlinesBody(f);
      off = writeFrame(f, buf, off, inline);
      if (!inline && f.cmd.body !== undefined) {
        chunks ??= [];
        chunks.push(buf.subarray(segment, off), f.cmd.body);
        segment = off;
        if (f.cmd.onWritten) (written ??= []).push(f.cmd.onWritten);
      } else if (f.cmd.onWritten) {
        f.cmd.onWritten(); // copied into buf
      }
    }
    q.length = 0;
    this.queuedBytes = 0;
    const spare = buf.length >= MIN_WRITE_BUFFER_BYTES && buf.length <= MAX_SPARE_BYTES;
    const bodiesWritten = written;
    const done =
      spare || bodiesWritten
        ? () => {
            if (spare) this.giveBackWriteBuffer(buf);
            if (bodiesWritten) for (const w of bodiesWritten) w();
          }
        : undefined;
    if (chunks === undefined) {
      socket.write(buf.subarray(0, off), done);
      return;
    }
    if (off > segment) chunks.push(buf.subarray(segment, off));
    socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    socket.write(chunks[last]!, done);
    socket.uncork();
  }

  /**
   * A buffer for one flush. The one handed back by the last finished write is reused when big enough: a fresh
   * allocation of this size is new memory, page-faulted in on first touch, which costs more than the copies
   * into it.
   */
  private takeWriteBuffer(bytes: number): Buffer {
    // Small ones come from Node's shared pool, which is cheap.
    if (bytes < SMALL_WRITE_BYTES) return Buffer.allocUnsafe(bytes);
    const spare = this.spare;
    if (spare !== undefined && spare.length >= bytes) {
      this.spare = undefined;
      return spare;
    }
    return Buffer.allocUnsafe(Math.max(bytes, MIN_WRITE_BUFFER_BYTES));
  }

  /** Called once the socket is done with `buf` (written to the kernel, or failed): it may be reused. */
  private giveBackWriteBuffer(buf: Buffer): void {
    if (this.spare === undefined || this.spare.length < buf.length) this.spare = buf;
  }

  private onData(chunk: Buffer): void {
    // After close() we keep reading (so the kernel does not answer the peer with a reset) but ignore it all.
    if (this.state !== "open") return;
    let cmds: RemotingCommand[];
    try {
      cmds = this.decoder.push(chunk);
    } catch (e) {
      if (!(e instanceof FrameError)) {
        this.logger.error({ err: e, remote: this.remoteAddress }, "frame decoder failed");
        this.destroy(e as Error);
        return;
      }
      for (const cmd of e.decoded) this.handle(cmd);
      this.onFrameError(e);
      return;
    }
    for (const cmd of cmds) this.handle(cmd);
  }

  private handle(cmd: RemotingCommand): void {
    if ((cmd.flag & FLAG_RESPONSE) !== 0) {
      const p = this.pending.take(cmd.opaque);
      if (p === undefined) {
        // Late (after a timeout) or unsolicited, e.g. a reply to a request we sent oneway.
        this.logger.debug(
          { opaque: cmd.opaque, code: cmd.code, remote: this.remoteAddress },
          "unmatched response",
        );
        return;
      }
      if (this.pending.size === 0 && this.sweepRefed) {
        this.sweepRefed = false;
        this.sweepTimer?.unref();
      }
      p.resolve(cmd);
      return;
    }
    try {
      this.onRequest(cmd, this);
    } catch (e) {
      this.logger.error({ err: e, code: cmd.code, remote: this.remoteAddress }, "request dispatch failed");
    }
  }

  // The stream cannot be re-synchronised after a bad frame. If the bad frame was a request whose opaque we
  // could read, tell the peer why before closing; Java just closes the channel.
  private onFrameError(e: FrameError): void {
    this.logger.warn({ err: e, remote: this.remoteAddress }, "bad frame, closing connection");
    const flag = e.flag ?? FLAG_RESPONSE;
    if (e.opaque !== undefined && (flag & (FLAG_RESPONSE | FLAG_ONEWAY)) === 0) {
      const req: RemotingCommand = {
        code: 0,
        language: "JAVA",
        version: 0,
        opaque: e.opaque,
        flag,
        extFields: {},
        serializeType: e.serializeType ?? SerializeType.JSON,
      };
      try {
        this.send(createResponse(req, ResponseCode.SYSTEM_ERROR, `bad frame: ${e.message}`));
      } catch {
        // Nothing more to tell the peer.
      }
    }
    this.close(e);
  }

  /** Makes sure the sweep runs by `deadline` and keeps the process alive while requests wait. */
  private watchDeadline(deadline: number): void {
    if (deadline < this.sweepAt) {
      if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
      this.sweepAt = deadline;
      this.sweepTimer = setTimeout(this.sweep, Math.max(deadline - performance.now(), 1));
      this.sweepRefed = true;
    } else if (!this.sweepRefed) {
      this.sweepRefed = true;
      this.sweepTimer?.ref();
    }
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    this.sweepRefed = false;
    const now = performance.now() + TIMEOUT_SLACK_MS;
    let next = Infinity;
    for (const p of this.pending.values()) {
      if (p.deadline <= now) {
        this.pending.take(p.opaque);
        p.reject(new RemotingTimeoutError(this.remoteAddress, p.timeoutMs, p.opaque, p.code));
      } else if (p.deadline < next) {
        next = p.deadline;
      }
    }
    if (next !== Infinity) this.watchDeadline(next);
  };

  private stopSweep(): void {
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    this.sweepRefed = false;
  }

  private rejectPending(): void {
    this.stopSweep();
    if (this.pending.size === 0) return;
    const err = new RemotingClosedError(this.remoteAddress, { cause: this.closeError });
    const all = this.pending.values();
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private onSocketClose(): void {
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    this.state = "closed";
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.rejectPending();
    const listeners = this.closeListeners.splice(0);
    for (const l of listeners) {
      try {
        l(this, this.closeError);
      } catch (err) {
        this.logger.error({ err, remote: this.remoteAddress }, "close listener failed");
      }
    }
  }
}

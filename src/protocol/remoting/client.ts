// Remoting client: one shared connection per "host:port", opened on first use and reopened on the next call
// after it closes (RocketMQ's NettyRemotingClient keeps one channel per address the same way). Used by our SDK
// to reach brokers and NameServers and by the broker to register with NameServers. Requests the server sends
// back on that connection (CHECK_TRANSACTION_STATE, NOTIFY_CONSUMER_IDS_CHANGED...) go to registered handlers.

import { signRemoting } from "../../common/acl-signature.js";
import type { SessionCredentials } from "../../common/acl-signature.js";
import { EventEmitter } from "node:events";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions } from "node:tls";
import type { RemotingCommand } from "./command.js";
import { FLAG_ONEWAY } from "./command.js";
import { RemotingConnection } from "./connection.js";
import type { RemotingLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import { RemotingClosedError, RemotingConnectError, RemotingTimeoutError } from "./remoting-errors.js";
import { RequestDispatcher } from "./request-dispatcher.js";
import type { RequestHandler } from "./request-dispatcher.js";

export interface RemotingClientOptions {
  /** Upper bound for opening a connection; an invoke's own timeout bounds it further. Default 3000 (as Java). */
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  logger?: RemotingLogger;
  /** Signs every request with these (RocketMQ's ACL AccessKey/Signature ext fields). */
  credentials?: SessionCredentials;
  /** Connects over TLS with these options (node:tls), as RocketMQ clients do with tls.enable. */
  tls?: ConnectionOptions;
}

export interface RemotingClientEvents {
  connectionClose: [addr: string, conn: RemotingConnection, err: Error | undefined];
}

/** Splits "host:port" or "[v6]:port". */
export function parseAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const port = Number(addr.slice(i + 1));
  let host = addr.slice(0, Math.max(i, 0));
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RemotingConnectError(addr, "address must be host:port");
  }
  return { host, port };
}

export class RemotingClient extends EventEmitter<RemotingClientEvents> {
  private readonly connectTimeoutMs: number;
  private readonly maxFrameBytes: number | undefined;
  private readonly logger: RemotingLogger;
  private readonly dispatcher: RequestDispatcher;
  private readonly live = new Map<string, RemotingConnection>();
  private readonly connecting = new Map<string, Promise<RemotingConnection>>();
  private closed = false;
  private readonly credentials: SessionCredentials | undefined;
  private readonly tls: ConnectionOptions | undefined;

  constructor(opts: RemotingClientOptions = {}) {
    super();
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
    this.maxFrameBytes = opts.maxFrameBytes;
    this.logger = opts.logger ?? silentLogger;
    this.dispatcher = new RequestDispatcher(this.logger);
    this.credentials = opts.credentials;
    this.tls = opts.tls;
  }

  /** Handler for requests a server sends to this client; unhandled codes get REQUEST_CODE_NOT_SUPPORTED. */
  registerHandler(code: number, handler: RequestHandler): this {
    this.dispatcher.register(code, handler);
    return this;
  }

  setDefaultHandler(handler: RequestHandler | undefined): this {
    this.dispatcher.setDefault(handler);
    return this;
  }

  /**
   * Sends `cmd` to `addr` and resolves with its response. `timeoutMs` covers connecting too. Rejects with
   * RemotingConnectError (never sent), RemotingTimeoutError (sent, no answer in time) or RemotingClosedError
   * (the connection dropped while waiting). A non-SUCCESS response code is not an error here.
   */
  invoke(addr: string, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.credentials) signRemoting(cmd.extFields, cmd.body, this.credentials);
    const conn = this.live.get(addr);
    if (conn !== undefined && !conn.closed) return conn.invoke(cmd, timeoutMs);
    return this.invokeAfterConnect(addr, cmd, timeoutMs);
  }

  /** Sends `cmd` with the oneway flag; resolves once it is queued on a connection. */
  async invokeOneway(
    addr: string,
    cmd: RemotingCommand,
    connectTimeoutMs = this.connectTimeoutMs,
  ): Promise<void> {
    cmd.flag |= FLAG_ONEWAY;
    if (this.credentials) signRemoting(cmd.extFields, cmd.body, this.credentials);
    const conn = await this.getConnection(addr, connectTimeoutMs);
    if (!conn.send(cmd)) throw new RemotingClosedError(addr);
  }

  /** The open connection to `addr`, opening it if needed. */
  getConnection(addr: string, timeoutMs = this.connectTimeoutMs): Promise<RemotingConnection> {
    if (this.closed)
      return Promise.reject(new RemotingClosedError(addr, { cause: new Error("client closed") }));
    const conn = this.live.get(addr);
    if (conn !== undefined && !conn.closed) return Promise.resolve(conn);
    let p = this.connecting.get(addr);
    if (p === undefined) {
      p = this.open(addr, Math.min(timeoutMs, this.connectTimeoutMs));
      this.connecting.set(addr, p);
      const settle = (): void => {
        if (this.connecting.get(addr) === p) this.connecting.delete(addr);
      };
      p.then(settle, settle);
    }
    return p;
  }

  /** Closes the connection to `addr`, if any; the next call reconnects. */
  closeConnection(addr: string): void {
    const conn = this.live.get(addr);
    if (conn === undefined) return;
    this.live.delete(addr);
    conn.close();
  }

  /** Closes every connection; later calls fail with RemotingClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.connecting.values()]);
    const conns = [...this.live.values()];
    this.live.clear();
    await Promise.all(
      conns.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.onClose(() => resolve());
            c.close();
          }),
      ),
    );
  }

  private async invokeAfterConnect(
    addr: string,
    cmd: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    const start = Date.now();
    const conn = await this.getConnection(addr, timeoutMs);
    const left = timeoutMs - (Date.now() - start);
    if (left <= 0) throw new RemotingTimeoutError(addr, timeoutMs, cmd.opaque, cmd.code);
    return conn.invoke(cmd, left);
  }

  private open(addr: string, timeoutMs: number): Promise<RemotingConnection> {
    let target: { host: string; port: number };
    try {
      target = parseAddress(addr);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<RemotingConnection>((resolve, reject) => {
      const where = { host: target.host, port: target.port, noDelay: true, keepAlive: true };
      const socket: Socket = this.tls ? tlsConnect({ ...this.tls, ...where }) : connect(where);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onError = (err: Error): void => fail(new RemotingConnectError(addr, err.message, { cause: err }));
      const timer = setTimeout(
        () => fail(new RemotingConnectError(addr, `timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once("error", onError);
      socket.once(this.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.removeListener("error", onError);
        const conn = new RemotingConnection(socket, {
          ...(this.maxFrameBytes === undefined ? {} : { maxFrameBytes: this.maxFrameBytes }),
          logger: this.logger,
          onRequest: (req, c) => this.dispatcher.dispatch(req, c),
        });
        if (this.closed) {
          conn.destroy();
          reject(new RemotingClosedError(addr, { cause: new Error("client closed") }));
          return;
        }
        this.live.set(addr, conn);
        conn.onClose((c, err) => {
          if (this.live.get(addr) === c) this.live.delete(addr);
          this.logger.debug({ addr, err }, "connection closed");
          this.emit("connectionClose", addr, c, err);
        });
        resolve(conn);
      });
    });
  }
}

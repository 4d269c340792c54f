// Remoting server over node:net: accepts connections, decodes frames, hands requests to the handler registered
// for their code and writes the answers back on the same connection. Connection-level failures (a bad frame,
// a reset) close that connection only.

import { EventEmitter } from "node:events";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tlsAcceptor } from "../tls-sniff.js";
import type { TlsAcceptor, TlsOption } from "../tls-sniff.js";
import { RemotingConnection } from "./connection.js";
import type { RemotingLogger } from "./logger.js";
import { silentLogger } from "./logger.js";
import { RequestDispatcher } from "./request-dispatcher.js";
import type { RequestGuard, RequestHandler } from "./request-dispatcher.js";

export interface RemotingServerOptions {
  /** Largest accepted frame, counted after the length word; default DEFAULT_MAX_FRAME_BYTES (16 MiB + 64 KiB). */
  maxFrameBytes?: number;
  logger?: RemotingLogger;
  /** TLS beside plaintext (permissive), instead of it (enforcing) or not at all (disabled, the default). */
  tls?: TlsOption;
}

export interface RemotingServerEvents {
  connection: [conn: RemotingConnection];
  /** After the socket is gone: the broker drops the client channels registered on it. */
  connectionClose: [conn: RemotingConnection, err: Error | undefined];
}

export class RemotingServer extends EventEmitter<RemotingServerEvents> {
  private readonly opts: RemotingServerOptions;
  private readonly logger: RemotingLogger;
  private readonly dispatcher: RequestDispatcher;
  private readonly conns = new Set<RemotingConnection>();
  private server: Server | undefined;
  private boundPort: number | undefined;
  private acceptor: TlsAcceptor | undefined;

  constructor(opts: RemotingServerOptions = {}) {
    super();
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.dispatcher = new RequestDispatcher(this.logger);
  }

  registerHandler(code: number, handler: RequestHandler): this {
    this.dispatcher.register(code, handler);
    return this;
  }

  /** Handler for codes with none of their own; without one they get REQUEST_CODE_NOT_SUPPORTED. */
  setDefaultHandler(handler: RequestHandler | undefined): this {
    this.dispatcher.setDefault(handler);
    return this;
  }

  /** Checked before every handler (access control); a throw answers the request with the error's code. */
  setGuard(guard: RequestGuard | undefined): this {
    this.dispatcher.setGuard(guard);
    return this;
  }

  get connections(): ReadonlySet<RemotingConnection> {
    return this.conns;
  }

  /** The bound port while listening. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** Starts listening; resolves with the port actually bound (useful with port 0). */
  listen(port: number, host = "0.0.0.0"): Promise<number> {
    if (this.server !== undefined) return Promise.reject(new Error("remoting server is already listening"));
    const tls = this.opts.tls;
    this.acceptor =
      tls === undefined || tls.mode === "disabled"
        ? undefined
        : tlsAcceptor(
            tls,
            (s) => this.accept(s),
            (msg, err) => this.logger.warn({ err }, `remoting port: ${msg}`),
          );
    const acceptor = this.acceptor;
    const onSocket = acceptor ? (s: Socket) => acceptor.accept(s) : (s: Socket) => this.accept(s);
    const server = createServer({ noDelay: true, keepAlive: true }, onSocket);
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once("error", onError);
      server.listen(port, host, () => {
        server.removeListener("error", onError);
        server.on("error", (err) => this.logger.error({ err }, "remoting server error"));
        const addr = server.address();
        this.boundPort = typeof addr === "object" && addr !== null ? addr.port : port;
        this.logger.info({ host, port: this.boundPort }, "remoting server listening");
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting, closes every connection (flushing queued responses) and resolves once all are gone. */
  close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    this.server = undefined;
    this.boundPort = undefined;
    // Node's server reports closed when its sockets are destroyed, a little before their 'close' events, so
    // also wait for every connection's own close (and with it our connectionClose events).
    const gone = [...this.conns].map((conn) => new Promise<void>((resolve) => conn.onClose(() => resolve())));
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    this.acceptor?.close();
    for (const conn of this.conns) conn.close();
    return Promise.all([stopped, ...gone]).then(() => undefined);
  }

  private accept(socket: Socket): void {
    const conn = new RemotingConnection(socket, {
      ...(this.opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: this.opts.maxFrameBytes }),
      logger: this.logger,
      onRequest: (req, c) => this.dispatcher.dispatch(req, c),
    });
    this.conns.add(conn);
    conn.onClose((c, err) => {
      this.conns.delete(c);
      this.emit("connectionClose", c, err);
    });
    this.emit("connection", conn);
  }
}

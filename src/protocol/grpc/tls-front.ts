// RocketMQ's TLS modes on the gRPC port, as its proxy serves them (see tls-sniff.ts). The RocketMQ 5 Java client
// uses TLS unless told otherwise (and trusts any certificate); the Node.js client uses plaintext unless
// `sslEnabled`. grpc-js takes each socket, once sniffed, through a connection injector for its credentials.
// The key and certificate are asked for at the first TLS connection, so a broker nobody reaches over TLS never
// loads or makes one.
import { createServer } from "node:net";
import type { Server as NetServer, Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { RemotingLogger } from "../remoting/logger.js";

import { sniffTls } from "../tls-sniff.js";
import type { TlsMaterial, TlsMode } from "../tls-sniff.js";

export class GrpcFront {
  private readonly net: NetServer;
  private readonly plain: grpc.ConnectionInjector;
  private tls: Promise<grpc.ConnectionInjector> | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly server: grpc.Server,
    private readonly mode: Exclude<TlsMode, "disabled">,
    private readonly material: () => Promise<TlsMaterial>,
    private readonly logger: RemotingLogger,
  ) {
    this.plain = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.net = createServer((s) => this.accept(s));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(port, host, () => {
        this.net.off("error", reject);
        const a = this.net.address();
        resolve(typeof a === "object" && a ? a.port : port);
      });
    });
  }

  /** No new connections; those open go on until close(). */
  stopAccepting(): void {
    if (this.net.listening) this.net.close();
  }

  /** Drops connections not yet handed to grpc-js; grpc-js's own shutdown closes the others. */
  close(): void {
    this.stopAccepting();
    for (const s of this.sockets) s.destroy();
    this.plain.destroy();
    void this.tls?.then((t) => t.destroy()).catch(() => undefined);
  }

  private accept(s: Socket): void {
    // Tracked until handed to grpc-js, whose shutdown then closes it gracefully (GOAWAY, as for its own listener).
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
    s.on("error", (err) => this.logger.debug({ err, remote: s.remoteAddress }, "gRPC socket error"));
    sniffTls(s, (isTls) => {
      if (!isTls) {
        if (this.mode === "enforcing") {
          this.logger.debug({ remote: s.remoteAddress }, "plaintext gRPC connection refused (TLS enforcing)");
          s.destroy();
          return;
        }
        this.sockets.delete(s);
        this.plain.injectConnection(s);
        return;
      }
      this.tlsInjector().then(
        (t) => {
          this.sockets.delete(s);
          t.injectConnection(s);
        },
        (err: unknown) => {
          this.logger.warn({ err }, "no TLS key and certificate for the gRPC port");
          s.destroy();
        },
      );
    });
  }

  private tlsInjector(): Promise<grpc.ConnectionInjector> {
    this.tls ??= this.material().then((m) =>
      this.server.createConnectionInjector(
        // Client certificates are not asked for; the CA argument is given only so that grpc-js does not read
        // its default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) for a server.
        grpc.ServerCredentials.createSsl(m.cert, [{ private_key: m.key, cert_chain: m.cert }], false),
      ),
    );
    // A failure is not kept: the next TLS connection asks again (a certificate put in place meanwhile).
    this.tls.catch(() => (this.tls = undefined));
    return this.tls;
  }
}

// TLS beside plaintext on one port, as RocketMQ's servers do in their default "permissive" mode: a connection's
// first byte tells them apart (0x16 opens a TLS handshake; neither RocketMQ remoting's length prefix for any frame
// under 352 MiB nor HTTP/2's preface starts with it). "enforcing" takes TLS only, "disabled" plaintext only.
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";

export type TlsMode = "disabled" | "permissive" | "enforcing";

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

/** What a server needs to offer TLS: the mode and, asked for at the first TLS connection, its key and certificate. */
export interface TlsOption {
  mode: TlsMode;
  material: () => Promise<TlsMaterial>;
}

const TLS_HANDSHAKE = 0x16;

/**
 * Waits for `s`'s first byte, puts it back, and calls `then(isTls)`. Nothing is called when the peer closes
 * before sending a byte. The socket is left paused; whoever takes it starts reading.
 */
export function sniffTls(s: Socket, then: (isTls: boolean) => void): void {
  s.once("readable", () => {
    const first = s.read(1) as Buffer | null;
    if (first === null) return;
    s.unshift(first);
    then(first[0] === TLS_HANDSHAKE);
  });
}

/** Connections handled by a TlsAcceptor: the ones still being sniffed can be dropped at close. */
export interface TlsAcceptor {
  accept(s: Socket): void;
  /** Drops the connections whose first byte has not come yet. */
  close(): void;
}

/** How a server takes a sniffed connection: as it is (plaintext), or through a TLS taker built once per key. */
export interface SniffedTakers {
  plain(s: Socket): void;
  /** Built at the first TLS connection, from the key and certificate. */
  tls(m: TlsMaterial): (s: Socket) => void;
}

/**
 * Sniffs each connection and hands it to `take.plain` (refused under enforcing) or to the TLS taker. The key and
 * certificate are asked for at the first TLS connection; a failure is not kept, so a pair put in place later is
 * picked up. A connection is tracked only until it is handed over: its taker closes it from then on.
 */
export function sniffingAcceptor(
  tls: TlsOption,
  take: SniffedTakers,
  log: (msg: string, err?: unknown) => void,
): TlsAcceptor {
  const sniffing = new Set<Socket>();
  let tlsTaker: Promise<(s: Socket) => void> | undefined;
  const secureTaker = (): Promise<(s: Socket) => void> => {
    tlsTaker ??= tls.material().then((m) => take.tls(m));
    tlsTaker.catch(() => (tlsTaker = undefined));
    return tlsTaker;
  };
  let closed = false;
  return {
    accept(s) {
      sniffing.add(s);
      s.once("close", () => sniffing.delete(s));
      s.on("error", () => undefined); // the taker listens once it has the socket; until then a reset is no news
      sniffTls(s, (isTls) => {
        if (!isTls) {
          sniffing.delete(s);
          if (tls.mode === "enforcing") s.destroy();
          else take.plain(s);
          return;
        }
        secureTaker().then(
          (taker) => {
            sniffing.delete(s);
            if (closed) s.destroy();
            else taker(s);
          },
          (err: unknown) => {
            log("no TLS key and certificate", err);
            s.destroy();
          },
        );
      });
    },
    close() {
      closed = true;
      for (const s of sniffing) s.destroy();
    },
  };
}

/** A sniffingAcceptor for servers that read the stream themselves: a server-side TLSSocket over a TLS connection. */
export function tlsAcceptor(
  tls: TlsOption,
  deliver: (s: Socket) => void,
  log: (msg: string, err?: unknown) => void,
): TlsAcceptor {
  return sniffingAcceptor(
    tls,
    {
      plain: (s) => {
        deliver(s);
        s.resume(); // sniffing paused it; the taker reads from here on
      },
      tls: (m) => {
        const secureContext = createSecureContext({ key: m.key, cert: m.cert });
        return (s) => deliver(new TLSSocket(s, { isServer: true, secureContext }));
      },
    },
    log,
  );
}

/** A TCP listener whose connections go to an acceptor (for servers that do not listen themselves). */
export class SniffingListener {
  private readonly net: Server;

  constructor(private readonly acceptor: TlsAcceptor) {
    this.net = createServer((s) => acceptor.accept(s));
  }

  /** Resolves with the bound port. */
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

  /** No new connections; those handed over go on until their takers close them. */
  stopAccepting(): void {
    if (this.net.listening) this.net.close();
  }

  /** Also drops the connections still being sniffed. */
  close(): void {
    this.stopAccepting();
    this.acceptor.close();
  }
}

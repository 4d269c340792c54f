// TLS beside plaintext on one port, as RocketMQ's servers do in their default "permissive" mode: a connection's
// first byte tells them apart (0x16 opens a TLS handshake; neither RocketMQ remoting's length prefix for any frame
// under 352 MiB nor HTTP/2's preface starts with it). "enforcing" takes TLS only, "disabled" plaintext only.
import type { Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import type { SecureContext } from "node:tls";

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

/**
 * For servers that take a socket (remoting, HTTP/1): sniffs each connection and hands `deliver` the socket itself
 * (plaintext, refused under enforcing) or a server-side TLSSocket over it. The key and certificate are asked for
 * at the first TLS connection; a failure is not kept, so a pair put in place later is picked up.
 */
export function tlsAcceptor(
  tls: TlsOption,
  deliver: (s: Socket) => void,
  log: (msg: string, err?: unknown) => void,
): TlsAcceptor {
  const sniffing = new Set<Socket>();
  let context: Promise<SecureContext> | undefined;
  const secureContext = (): Promise<SecureContext> => {
    context ??= tls.material().then((m) => createSecureContext({ key: m.key, cert: m.cert }));
    context.catch(() => (context = undefined));
    return context;
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
          if (tls.mode === "enforcing") {
            s.destroy();
            return;
          }
          deliver(s);
          s.resume();
          return;
        }
        secureContext().then(
          (secure) => {
            sniffing.delete(s);
            if (closed) return void s.destroy();
            deliver(new TLSSocket(s, { isServer: true, secureContext: secure }));
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

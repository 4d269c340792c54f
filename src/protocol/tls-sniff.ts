// TLS beside plaintext on one port, as RocketMQ's servers do in their default "permissive" mode: a connection's
// first byte tells them apart (0x16 opens a TLS handshake; neither RocketMQ remoting's length prefix for any frame
// under 352 MiB nor HTTP/2's preface starts with it). "enforcing" takes TLS only, "disabled" plaintext only.
import type { Socket } from "node:net";

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

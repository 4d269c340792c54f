// Test helpers: a raw TCP peer that writes arbitrary bytes and collects the frames it gets back.

import { connect, type Socket } from "node:net";
import type { RemotingCommand } from "../../../src/protocol/remoting/command.js";
import { FrameDecoder } from "../../../src/protocol/remoting/frame-codec.js";

export interface RawPeer {
  socket: Socket;
  received: RemotingCommand[];
  closed: Promise<void>;
  /** Resolves once `n` frames have arrived in total (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<RemotingCommand[]>;
}

export function rawPeer(port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const decoder = new FrameDecoder();
    const received: RemotingCommand[] = [];
    let wake: (() => void) | undefined;
    socket.on("data", (chunk: Buffer) => {
      try {
        received.push(...decoder.push(chunk));
      } catch {
        socket.destroy();
      }
      wake?.();
    });
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    socket.on("error", () => {});
    socket.once("connect", () =>
      resolve({
        socket,
        received,
        closed,
        async waitFor(n, ms = 3000) {
          const deadline = Date.now() + ms;
          while (received.length < n) {
            if (Date.now() > deadline) throw new Error(`got ${received.length} of ${n} frames`);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 20);
            });
          }
          return received;
        },
      }),
    );
    socket.once("error", reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

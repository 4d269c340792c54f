// Errors a caller of invoke() can meet, typed so the SDK can tell "no answer in time" (the request may still
// have been processed) from "never reached the peer" (safe to retry elsewhere).

export class RemotingTimeoutError extends Error {
  readonly addr: string;
  readonly timeoutMs: number;
  readonly opaque: number;
  constructor(addr: string, timeoutMs: number, opaque: number, code: number) {
    super(`no response from ${addr} within ${timeoutMs} ms (request code ${code}, opaque ${opaque})`);
    this.name = "RemotingTimeoutError";
    this.addr = addr;
    this.timeoutMs = timeoutMs;
    this.opaque = opaque;
  }
}

export class RemotingConnectError extends Error {
  readonly addr: string;
  constructor(addr: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot connect to ${addr}: ${detail}`, options);
    this.name = "RemotingConnectError";
    this.addr = addr;
  }
}

/** The connection closed (or was already closed) before a response arrived. */
export class RemotingClosedError extends Error {
  readonly addr: string;
  constructor(addr: string, options?: { cause?: unknown }) {
    super(`connection to ${addr} closed`, options);
    this.name = "RemotingClosedError";
    this.addr = addr;
  }
}

// Routes incoming requests to handlers by code and turns what a handler returns or throws into the response,
// the way NettyRemotingAbstract.processRequestCommand does: unknown code → REQUEST_CODE_NOT_SUPPORTED,
// exception → SYSTEM_ERROR (or the error's own remoting code), nothing sent for oneway requests.
// Shared by the server and by the client (for server → client requests such as CHECK_TRANSACTION_STATE).

import type { RemotingCommand } from "./command.js";
import { createResponse, FLAG_RESPONSE, isOneway } from "./command.js";
import type { RemotingConnection } from "./connection.js";
import type { RemotingLogger } from "./logger.js";
import { requestCodeName } from "./request-code.js";
import { ResponseCode } from "./response-code.js";

/**
 * Answers one request. Returning undefined sends nothing: right for oneway requests, and for handlers that
 * answer later themselves with `conn.send(createResponse(req, ...))` (long-polling pulls).
 */
export type RequestHandler = (
  req: RemotingCommand,
  conn: RemotingConnection,
) => Promise<RemotingCommand | undefined> | RemotingCommand | undefined;

/** The remoting code an error maps to: its `remotingCode`, else its `spec.remoting` (BrokerError), else 1. */
export function remotingCodeOf(e: unknown): number {
  if (typeof e === "object" && e !== null) {
    const rc = (e as { remotingCode?: unknown }).remotingCode;
    if (typeof rc === "number" && Number.isInteger(rc)) return rc;
    const spec = (e as { spec?: unknown }).spec;
    if (typeof spec === "object" && spec !== null) {
      const r = (spec as { remoting?: unknown }).remoting;
      if (typeof r === "number" && Number.isInteger(r)) return r;
    }
  }
  return ResponseCode.SYSTEM_ERROR;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs before every handler; throwing refuses the request with the error's code (access control). */
export type RequestGuard = (req: RemotingCommand, conn: RemotingConnection) => void;

export class RequestDispatcher {
  private readonly handlers = new Map<number, RequestHandler>();
  private fallback: RequestHandler | undefined;
  private guard: RequestGuard | undefined;

  constructor(private readonly logger: RemotingLogger) {}

  register(code: number, handler: RequestHandler): void {
    this.handlers.set(code, handler);
  }

  setDefault(handler: RequestHandler | undefined): void {
    this.fallback = handler;
  }

  setGuard(guard: RequestGuard | undefined): void {
    this.guard = guard;
  }

  dispatch(req: RemotingCommand, conn: RemotingConnection): void {
    const handler = this.handlers.get(req.code) ?? this.fallback;
    if (handler === undefined) {
      this.logger.debug({ code: req.code, remote: conn.remoteAddress }, "request code not supported");
      const remark = `request type ${req.code} not supported`;
      this.reply(req, conn, createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, remark));
      return;
    }
    let result: ReturnType<RequestHandler>;
    try {
      this.guard?.(req, conn);
      result = handler(req, conn);
    } catch (e) {
      this.fail(req, conn, e);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (res) => this.reply(req, conn, res),
        (e: unknown) => this.fail(req, conn, e),
      );
    } else {
      this.reply(req, conn, result);
    }
  }

  private reply(req: RemotingCommand, conn: RemotingConnection, res: RemotingCommand | undefined): void {
    if (res === undefined || isOneway(req)) return;
    // As Java's writeResponse does, whatever the handler built: echo the opaque, mark it a response, and
    // answer in the request's header encoding.
    res.opaque = req.opaque;
    res.flag |= FLAG_RESPONSE;
    res.serializeType = req.serializeType;
    try {
      conn.send(res);
    } catch (e) {
      // The response could not be encoded (a header over 16 MiB, a code too wide for the binary header...).
      this.logger.error({ err: e, code: req.code }, "cannot encode response");
      conn.send(createResponse(req, ResponseCode.SYSTEM_ERROR, `cannot encode response: ${messageOf(e)}`));
    }
  }

  private fail(req: RemotingCommand, conn: RemotingConnection, e: unknown): void {
    const code = remotingCodeOf(e);
    if (code === ResponseCode.SYSTEM_ERROR) {
      this.logger.warn(
        { err: e, request: requestCodeName(req.code), remote: conn.remoteAddress },
        "handler failed",
      );
    }
    if (isOneway(req)) return;
    conn.send(createResponse(req, code, messageOf(e)));
  }
}

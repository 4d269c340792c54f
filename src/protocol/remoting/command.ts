// The decoded form of one remoting frame, request or response, and helpers to build them.
// flag bit 0 = response (RocketMQ's RPC_TYPE), bit 1 = oneway (RPC_ONEWAY): the sender expects no reply.

export const SerializeType = {
  JSON: 0,
  ROCKETMQ: 1,
} as const;
export type SerializeTypeCode = (typeof SerializeType)[keyof typeof SerializeType];

export const FLAG_RESPONSE = 1 << 0;
export const FLAG_ONEWAY = 1 << 1;

/**
 * The `version` we put in commands we create: MQVersion.Version.V4_9_4.ordinal(). A Java NameServer answers
 * clients at or above V4_9_4 with standard JSON routes, and a 5.x server sends GO_AWAY only above V5_3_1 (475),
 * which we do not handle, so this is the newest value whose behaviour we want.
 */
export const REMOTING_VERSION = 401;

export interface RemotingCommand {
  /** Request code for requests, response code for responses. */
  code: number;
  language: string;
  version: number;
  /** Request id; a response echoes the request's. */
  opaque: number;
  flag: number;
  remark?: string;
  /** Every custom request/response header field, as strings (JSON clients may send numbers; decode coerces). */
  extFields: Record<string, string>;
  body?: Buffer;
  /** Header encoding this command arrived in or will be sent in. */
  serializeType: SerializeTypeCode;
  /**
   * Sending side only: called once the body's memory is no longer needed (copied into the connection's write
   * buffer, or written to the socket, or the write failed), so it may be reused. Not called for a command the
   * connection drops unsent.
   */
  onWritten?: () => void;
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_ONEWAY) !== 0;
}

// Per process, like RocketMQ's static requestId, so opaques stay unique across every connection we open.
// Kept positive (wrapping before 2^31) because ali-ons and logs read it as a signed int.
let nextOpaque = 1;

export function newOpaque(): number {
  const o = nextOpaque;
  nextOpaque = nextOpaque >= 0x7fffffff ? 1 : nextOpaque + 1;
  return o;
}

export function createRequest(
  code: number,
  extFields: Record<string, string> = {},
  body?: Buffer,
): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: "JAVA",
    version: REMOTING_VERSION,
    opaque: newOpaque(),
    flag: 0,
    extFields,
    serializeType: SerializeType.JSON,
  };
  if (body !== undefined) cmd.body = body;
  return cmd;
}

/**
 * A response to `req`: same opaque and the response flag set. It goes back in the header encoding the request
 * used, because clients differ in what they can read (ali-ons decodes JSON only).
 */
export function createResponse(
  req: RemotingCommand,
  code: number,
  remark?: string,
  extFields: Record<string, string> = {},
  body?: Buffer,
): RemotingCommand {
  const cmd: RemotingCommand = {
    code,
    language: "JAVA",
    version: REMOTING_VERSION,
    opaque: req.opaque,
    flag: FLAG_RESPONSE,
    extFields,
    serializeType: req.serializeType,
  };
  if (remark !== undefined) cmd.remark = remark;
  if (body !== undefined) cmd.body = body;
  return cmd;
}

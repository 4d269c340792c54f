// The one error the frame codec throws for bytes it cannot accept. A connection that sees it cannot find the
// next frame boundary any more, so the caller answers (when the request's opaque is known) and closes it.

import type { RemotingCommand, SerializeTypeCode } from "./command.js";

export type FrameErrorReason =
  /** Length prefix below 4: a frame must at least hold the header-length word. Includes negative lengths. */
  | "bad-length"
  /** Length prefix above the configured maximum; rejected before anything is allocated. */
  | "frame-too-large"
  /** Header length (low 24 bits of the second word) larger than the frame. */
  | "header-too-long"
  /** High byte of the second word is neither 0 (JSON) nor 1 (ROCKETMQ). */
  | "unknown-serialize-type"
  /** JSON header that does not parse, is not an object, or has fields of the wrong type (code must be a number). */
  | "bad-json-header"
  /** Binary header shorter than its fixed part, or a string/map length that runs past the header. */
  | "bad-binary-header"
  /** The input ended in the middle of a frame. */
  | "truncated";

export class FrameError extends Error {
  readonly reason: FrameErrorReason;
  /** The bad frame's opaque and flag when its header got far enough to show them, so a reply can be attempted. */
  opaque?: number;
  flag?: number;
  serializeType?: SerializeTypeCode;
  /** Commands decoded from the same chunk before the bad frame; a streaming caller should still handle them. */
  decoded: RemotingCommand[] = [];

  constructor(reason: FrameErrorReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = "FrameError";
    this.reason = reason;
  }
}

/** An error for a header whose opaque and flag could be read, so the peer can be told what was wrong. */
export function answerableFrameError(
  reason: FrameErrorReason,
  detail: string,
  opaque: number,
  flag: number,
  serializeType: SerializeTypeCode,
): FrameError {
  const e = new FrameError(reason, detail);
  e.opaque = opaque;
  e.flag = flag;
  e.serializeType = serializeType;
  return e;
}

export function isFrameError(e: unknown): e is FrameError {
  return e instanceof FrameError;
}

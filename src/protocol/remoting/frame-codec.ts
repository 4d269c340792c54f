// Remoting frame, the same for requests and responses (RemotingCommand.encode in Java). Big-endian:
//   length i32          bytes after this word: 4 + headerLength + bodyLength
//   type<<24 | hlen     high byte = serialize type (0 JSON, 1 ROCKETMQ binary), low 24 bits = header length
//   header              hlen bytes, see json-header.ts / binary-header.ts
//   body                the rest, raw bytes (message payload, JSON document, pull result...)
// Java's decoder (NettyDecoder) caps a frame at 16 MiB including the length word; we allow a little more so a
// maximal Java frame with a long header still fits.

import type { RemotingCommand } from "./command.js";
import { SerializeType } from "./command.js";
import {
  binaryHeaderRoom,
  binaryHeaderSize,
  decodeBinaryHeader,
  writeBinaryHeader,
} from "./binary-header.js";
import { FrameError } from "./frame-error.js";
import { i32, put32 } from "../../common/big-endian.js";
import { decodeJsonHeader, encodeJsonHeader } from "./json-header.js";
import { jsonHeaderSize, writeJsonHeader } from "./json-header-writer.js";

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024 + 64 * 1024;
const MAX_HEADER_BYTES = 0xffffff;
/** Bodies up to this size are copied next to the header; larger ones are written as their own chunk. */
const INLINE_BODY_BYTES = 16 * 1024;

function checkInt(name: string, v: number): void {
  if (!Number.isInteger(v)) throw new TypeError(`remoting command ${name} must be an integer, got ${v}`);
}

/**
 * A command checked and measured for writing, so a batch of them can be written into one allocation. All
 * encoding errors surface here, before anything is queued.
 */
export interface PreparedFrame {
  cmd: RemotingCommand;
  /** JSON header text when the header needs the string encoder; empty otherwise (written directly). */
  json: string;
  /** The header's size; for a binary header, room enough for it (writeFrame returns where the frame ends). */
  headerBytes: number;
  /** Whole frame, length word and body included: exact, or at most this for a binary header. */
  frameBytes: number;
}

export function prepareFrame(cmd: RemotingCommand): PreparedFrame {
  checkInt("code", cmd.code);
  checkInt("opaque", cmd.opaque);
  checkInt("flag", cmd.flag);
  checkInt("version", cmd.version);
  const type = cmd.serializeType;
  let json = "";
  let hl: number;
  if (type === SerializeType.JSON) {
    hl = jsonHeaderSize(cmd);
    if (hl < 0) {
      json = encodeJsonHeader(cmd);
      hl = Buffer.byteLength(json, "utf8");
    }
  } else if (type === SerializeType.ROCKETMQ) {
    hl = binaryHeaderRoom(cmd);
    // Only a header near the 24-bit limit needs its exact size to be judged.
    if (hl > MAX_HEADER_BYTES) hl = binaryHeaderSize(cmd);
  } else {
    throw new RangeError(`unknown serialize type ${String(type)}`);
  }
  if (hl > MAX_HEADER_BYTES) throw new RangeError(`header of ${hl} bytes does not fit 24 bits`);
  const length = 4 + hl + (cmd.body?.length ?? 0);
  if (length > 0x7fffffff) throw new RangeError(`frame of ${length} bytes does not fit a 32-bit length`);
  return { cmd, json, headerBytes: hl, frameBytes: 4 + length };
}

/** Whether a writer should copy this frame's body next to its header rather than write the body on its own. */
export function inlinesBody(f: PreparedFrame): boolean {
  return (f.cmd.body?.length ?? 0) <= INLINE_BODY_BYTES;
}

/** Writes length word, type word, header and (when `withBody`) body at `off`; returns the end offset. */
export function writeFrame(f: PreparedFrame, buf: Buffer, off: number, withBody: boolean): number {
  const cmd = f.cmd;
  let end: number;
  if (cmd.serializeType !== SerializeType.JSON) {
    // The true header size is known once written: the length words go in after it.
    end = writeBinaryHeader(cmd, buf, off + 8);
    const hl = end - off - 8;
    put32(buf, off, 4 + hl + (cmd.body?.length ?? 0));
    put32(buf, off + 4, (cmd.serializeType << 24) | hl);
  } else {
    const hl = f.headerBytes;
    put32(buf, off, f.frameBytes - 4);
    put32(buf, off + 4, (cmd.serializeType << 24) | hl);
    if (f.json === "") writeJsonHeader(cmd, buf, off + 8);
    else buf.write(f.json, off + 8, "utf8");
    end = off + 8 + hl;
  }
  if (withBody && cmd.body !== undefined) end += cmd.body.copy(buf, end);
  return end;
}

/** The whole frame in one buffer (copies the body). */
export function encodeCommand(cmd: RemotingCommand): Buffer {
  const f = prepareFrame(cmd);
  const buf = Buffer.allocUnsafe(f.frameBytes);
  return buf.subarray(0, writeFrame(f, buf, 0, true));
}

/** Decodes the bytes after a frame's length word. `payload` is kept by reference: the body is a view of it. */
export function decodeFramePayload(payload: Buffer): RemotingCommand {
  return decodeFrameAt(payload, 0, payload.length);
}

/**
 * decodeFramePayload for the payload in `buf[start, end)`, so a frame inside a received chunk needs no view of
 * its own: only its body becomes one.
 */
function decodeFrameAt(buf: Buffer, start: number, end: number): RemotingCommand {
  const len = end - start;
  if (len < 4) throw new FrameError("bad-length", `frame of ${len} bytes has no header length`);
  const type = buf[start];
  const hl = i32(buf, start) & MAX_HEADER_BYTES;
  if (hl > len - 4) {
    throw new FrameError("header-too-long", `header length ${hl} exceeds frame length ${len}`);
  }
  const h = start + 4;
  let cmd: RemotingCommand;
  if (type === SerializeType.JSON) cmd = decodeJsonHeader(buf, h, h + hl);
  else if (type === SerializeType.ROCKETMQ) cmd = decodeBinaryHeader(buf, h, h + hl);
  else throw new FrameError("unknown-serialize-type", `serialize type ${String(type)}`);
  if (end > h + hl) cmd.body = buf.subarray(h + hl, end);
  return cmd;
}

function checkLength(len: number, max: number): void {
  if (len < 4) throw new FrameError("bad-length", `length prefix ${len} is below 4`);
  if (len > max) throw new FrameError("frame-too-large", `length prefix ${len} exceeds the limit of ${max}`);
}

/** Decodes exactly one whole frame, length word included. */
export function decodeCommand(frame: Buffer, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): RemotingCommand {
  if (frame.length < 4) throw new FrameError("truncated", `${frame.length} bytes hold no length prefix`);
  const len = frame.readInt32BE(0);
  checkLength(len, maxFrameBytes);
  if (frame.length - 4 < len)
    throw new FrameError("truncated", `frame needs ${len} bytes, has ${frame.length - 4}`);
  if (frame.length - 4 > len)
    throw new FrameError("bad-length", `${frame.length - 4 - len} bytes after the frame`);
  return decodeFramePayload(frame.subarray(4));
}

/**
 * Incremental decoder for one connection's byte stream. Whole frames inside a chunk are decoded in place
 * (bodies are views of the chunk); only a frame split across chunks is copied, once, when its last byte
 * arrives. A length prefix is checked against the limit as soon as its 4 bytes are in, before anything is
 * kept for that frame, so a huge prefix costs nothing. After a FrameError the stream has lost its framing:
 * every later push throws the same error.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  /** Bytes of the frame in progress: its length prefix while `need < 0`, else its payload. */
  private stash: Buffer[] = [];
  private stashBytes = 0;
  /** Payload length of the frame in progress, or -1 while its length prefix is incomplete. */
  private need = -1;
  private failed: FrameError | undefined;
  private readonly prefix = Buffer.alloc(4);

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.stashBytes;
  }

  /** Decodes every frame completed by `chunk`. On a FrameError, commands decoded before it are in `err.decoded`. */
  push(chunk: Buffer): RemotingCommand[] {
    if (this.failed) throw this.failed;
    const out: RemotingCommand[] = [];
    try {
      this.consume(chunk, out);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      e.decoded = out;
      this.failed = e;
      this.stash = [];
      this.stashBytes = 0;
      throw e;
    }
    return out;
  }

  /** Call at end of stream: throws if it stopped inside a frame. */
  finish(): void {
    if (this.failed) throw this.failed;
    if (this.stashBytes > 0 || this.need >= 0) {
      throw new FrameError("truncated", `stream ended with ${this.stashBytes} bytes of an unfinished frame`);
    }
  }

  private consume(chunk: Buffer, out: RemotingCommand[]): void {
    let off = 0;
    if (this.stashBytes > 0 || this.need >= 0) {
      off = this.continueFrame(chunk, out);
      if (off < 0) return;
    }
    const n = chunk.length;
    while (n - off >= 4) {
      const len = i32(chunk, off);
      checkLength(len, this.maxFrameBytes);
      if (n - off - 4 < len) {
        this.need = len;
        if (n - off > 4) this.stashPart(chunk.subarray(off + 4));
        return;
      }
      out.push(decodeFrameAt(chunk, off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < n) this.stashPart(chunk.subarray(off));
  }

  private stashPart(b: Buffer): void {
    this.stash.push(b);
    this.stashBytes += b.length;
  }

  /** Feeds the frame in progress; returns where the rest of `chunk` starts, or -1 if all of it was kept. */
  private continueFrame(chunk: Buffer, out: RemotingCommand[]): number {
    let off = 0;
    if (this.need < 0) {
      const missing = 4 - this.stashBytes;
      if (chunk.length < missing) {
        this.stashPart(chunk);
        return -1;
      }
      let p = 0;
      for (const s of this.stash) p += s.copy(this.prefix, p);
      chunk.copy(this.prefix, p, 0, missing);
      const len = this.prefix.readInt32BE(0);
      checkLength(len, this.maxFrameBytes);
      this.need = len;
      this.stash = [];
      this.stashBytes = 0;
      off = missing;
    }
    const missing = this.need - this.stashBytes;
    const avail = chunk.length - off;
    if (avail < missing) {
      if (avail > 0) this.stashPart(off === 0 ? chunk : chunk.subarray(off));
      return -1;
    }
    const frame = Buffer.allocUnsafe(this.need);
    let p = 0;
    for (const s of this.stash) p += s.copy(frame, p);
    chunk.copy(frame, p, off, off + missing);
    this.stash = [];
    this.stashBytes = 0;
    this.need = -1;
    out.push(decodeFramePayload(frame));
    return off + missing;
  }
}

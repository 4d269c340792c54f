// JSON header (serialize type 0): one UTF-8 JSON object. Java (fastjson) writes the fields sorted by name and
// leaves out nulls, so a Java response looks like
//   {"code":0,"extFields":{"queueId":"1"},"flag":1,"language":"JAVA","opaque":7,"remark":"..",
//    "serializeTypeCurrentRPC":"JSON","version":401}
// and we write the same shape. Readers are lenient the way fastjson is: ext-field values may be numbers or
// booleans (ali-ons sends them so) and are turned into strings; missing fields take Java's defaults.

import type { RemotingCommand } from "./command.js";
import { SerializeType } from "./command.js";
import { FrameError, answerableFrameError } from "./frame-error.js";
import { languageFromByte } from "./language-code.js";

/** JSON text of the language names we send, so the usual one is not stringified per frame. */
const LANGUAGE_JSON = new Map<string, string>([["JAVA", '"JAVA"']]);

/** Header text for `cmd`; the caller measures and writes it. Empty extFields are left out, as Java does. */
export function encodeJsonHeader(cmd: RemotingCommand): string {
  let ext = "";
  for (const _ in cmd.extFields) {
    ext = `,"extFields":${JSON.stringify(cmd.extFields)}`;
    break;
  }
  const language = LANGUAGE_JSON.get(cmd.language) ?? JSON.stringify(cmd.language);
  const remark = cmd.remark === undefined ? "" : `,"remark":${JSON.stringify(cmd.remark)}`;
  return `{"code":${cmd.code}${ext},"flag":${cmd.flag},"language":${language},"opaque":${cmd.opaque}${remark},"serializeTypeCurrentRPC":"JSON","version":${cmd.version}}`;
}

/** Decodes the header in `buf[start, end)`; the body is attached by the caller. */
export function decodeJsonHeader(buf: Buffer, start: number, end: number): RemotingCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString("utf8", start, end));
  } catch {
    throw new FrameError("bad-json-header", "header is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new FrameError("bad-json-header", "header is not a JSON object");
  }
  const h = parsed as Record<string, unknown>;
  const opaque = intField(h["opaque"], 0);
  const flag = intField(h["flag"], 0);
  if (opaque === undefined || flag === undefined) {
    throw new FrameError("bad-json-header", "opaque and flag must be integers");
  }
  const code = intField(h["code"], undefined);
  if (code === undefined) throw answerable("header has no numeric code", opaque, flag);
  const version = intField(h["version"], 0);
  if (version === undefined) throw answerable("version must be an integer", opaque, flag);

  const ext = h["extFields"];
  let extFields: Record<string, string>;
  if (ext === undefined || ext === null) extFields = {};
  else if (typeof ext === "object" && !Array.isArray(ext))
    extFields = stringValues(ext as Record<string, unknown>);
  else throw answerable("extFields is not an object", opaque, flag);

  const cmd: RemotingCommand = {
    code,
    language: languageOf(h["language"]),
    version,
    opaque,
    flag,
    extFields,
    serializeType: SerializeType.JSON,
  };
  const remark = h["remark"];
  if (remark !== undefined && remark !== null)
    cmd.remark = typeof remark === "string" ? remark : text(remark);
  return cmd;
}

function answerable(detail: string, opaque: number, flag: number): FrameError {
  return answerableFrameError("bad-json-header", detail, opaque, flag, SerializeType.JSON);
}

// An int32-range integer, or a string of digits (fastjson converts those too); `undefined` means invalid.
function intField(v: unknown, dflt: number | undefined): number | undefined {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number")
    return Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff ? v : undefined;
  if (typeof v === "string" && /^-?\d{1,10}$/.test(v)) return intField(Number(v), dflt);
  return undefined;
}

function languageOf(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return languageFromByte(v);
  return "JAVA";
}

// Converts in place: in the usual (Java) case every value is already a string and nothing is copied. Mutating
// the parsed object also keeps a "__proto__" key as a plain own property. for-in rather than Object.keys: no
// key array per frame; a JSON.parse result has no inherited enumerable keys, and deleting the key being
// visited is allowed during for-in.
function stringValues(o: Record<string, unknown>): Record<string, string> {
  for (const k in o) {
    const v = o[k];
    if (typeof v === "string") continue;
    if (v === null || v === undefined) delete o[k];
    else o[k] = text(v);
  }
  return o as Record<string, string>;
}

function text(v: unknown): string {
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

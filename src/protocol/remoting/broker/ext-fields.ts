// Reading request header fields. Java clients send every ext field as a string; ali-ons sends numbers and
// booleans as JSON values (the decoder turns them into strings). Missing or malformed required fields are the
// client's error: BAD_REQUEST (remoting code 13) with the field named.
import { BrokerError } from "../../../common/errors.js";

export type Ext = Record<string, string>;

export function optStr(ext: Ext, name: string): string | undefined {
  const v = ext[name];
  return v === undefined || v === "null" ? undefined : v;
}

/** `label` names the field in errors when `name` is a short alias (SEND_MESSAGE_V2's one-letter fields). */
export function reqStr(ext: Ext, name: string, label = name): string {
  const v = optStr(ext, name);
  if (v === undefined || v === "") throw new BrokerError("BAD_REQUEST", `header field ${label} is missing`);
  return v;
}

export function optInt(ext: Ext, name: string, label = name): number | undefined {
  const v = optStr(ext, name);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new BrokerError("BAD_REQUEST", `header field ${label} is not an integer: ${v.slice(0, 32)}`);
  return n;
}

export function reqInt(ext: Ext, name: string): number {
  const n = optInt(ext, name);
  if (n === undefined) throw new BrokerError("BAD_REQUEST", `header field ${name} is missing`);
  return n;
}

export function optBool(ext: Ext, name: string): boolean {
  const v = optStr(ext, name);
  return v === "true" || v === "1";
}

/** Header values go back as strings, as a Java broker sends them. */
export function fields(
  values: Record<string, string | number | boolean | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  // for...in, not Object.entries: every pull response comes through here, and entries() allocates an array per
  // field. The argument is always an object literal, so there are no inherited keys to skip.
  for (const k in values) {
    const v = values[k];
    if (v !== undefined) out[k] = String(v);
  }
  return out;
}

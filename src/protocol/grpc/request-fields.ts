// Reading the common fields of v2 requests: resource names (namespaces are ignored: the broker has none) and
// protobuf Timestamp / Duration values, in both directions.
import { Code, badRequest } from "./status.js";
import type { Duration, Resource, Timestamp } from "./wire-types.js";

/** The resource's name; BAD_REQUEST (or `code`) naming `what` when it is missing. */
export function nameOf(r: Resource | undefined, what: string, code: number = Code.BAD_REQUEST): string {
  const name = r?.name;
  if (typeof name !== "string" || name.length === 0) throw badRequest(`${what} is required`, code);
  return name;
}

export function topicOf(r: Resource | undefined): string {
  return nameOf(r, "topic", Code.ILLEGAL_TOPIC);
}

export function groupOf(r: Resource | undefined): string {
  return nameOf(r, "group", Code.ILLEGAL_CONSUMER_GROUP);
}

/** Milliseconds of a Duration or Timestamp; undefined when absent. */
export function millisOf(d: Duration | Timestamp | undefined): number | undefined {
  if (!d) return undefined;
  return (d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

export const durationOf = timestampOf;

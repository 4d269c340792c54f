// Access control on the gRPC endpoint. A signing client (sessionCredentials) sends two headers:
//   authorization:   MQv2-HMAC-SHA1 Credential=<accessKey>, SignedHeaders=x-mq-date-time, Signature=<hex>
//   x-mq-date-time:  20261123T215435Z
// where the signature is HMAC-SHA1(key = secret, data = the x-mq-date-time value), in hex (the clients write it
// upper case; RocketMQ decodes the hex, so its case does not matter). The rights each RPC needs follow RocketMQ 5's
// gRPC authorization: routes need PUB or SUB on the topic, sending PUB, consuming SUB on the topic and the group,
// and a Telemetry stream's Settings need the rights of what they declare. RPCs not listed need only a valid account.
import { createHmac, timingSafeEqual } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import type { AccessControl, Caller, Needs } from "../../broker/acl/access-control.js";
import { Perm } from "../../broker/acl/permission.js";
import { BrokerError } from "../../common/errors.js";
import { ipOfAddress } from "../../common/socket-address.js";
import type {
  QueryRouteRequest,
  ReceiveMessageRequest,
  Resource,
  SendMessageRequest,
  Settings,
} from "./wire-types.js";

const ALGORITHM = "MQv2-HMAC-SHA1";
const HEADER_FORM = `${ALGORITHM} Credential=<accessKey>, SignedHeaders=x-mq-date-time, Signature=<hex>`;

/** What the check reads of a call: its headers and its peer. */
export interface CallInfo {
  metadata: grpc.Metadata;
  getPeer(): string;
}

/** Passes, or throws UNAUTHENTICATED / NO_PERMISSION for `rpc` with request `req` (undefined: the stream opening). */
export function checkAccess(acl: AccessControl, call: CallInfo, rpc: string, req: unknown): void {
  if (!acl.enabled) return;
  check(acl, call, () => needsOf(rpc, req));
}

/** The same for a Settings command on a Telemetry stream. */
export function checkSettingsAccess(acl: AccessControl, call: CallInfo, settings: Settings): void {
  if (!acl.enabled) return;
  check(acl, call, () => settingsNeeds(settings));
}

function check(acl: AccessControl, call: CallInfo, needs: () => Needs): void {
  const ip = ipOfAddress(call.getPeer());
  // Before reading the headers: a white-listed peer is served whatever it sends.
  if (acl.globallyWhitelisted(ip)) return;
  acl.check(callerOf(call.metadata, ip), needs());
}

function callerOf(md: grpc.Metadata, ip: string): Caller {
  const auth = readAuthorization(md);
  if (auth === undefined) return { accessKey: undefined, ip, signedWith: () => false };
  return {
    accessKey: auth.accessKey,
    ip,
    signedWith: (secret) => {
      const want = createHmac("sha1", secret).update(auth.dateTime, "utf8").digest();
      return want.length === auth.signature.length && timingSafeEqual(want, auth.signature);
    },
  };
}

/** The authorization header, read; undefined when there is none, UNAUTHENTICATED when it cannot be read. */
function readAuthorization(
  md: grpc.Metadata,
): { accessKey: string; signature: Buffer; dateTime: string } | undefined {
  const values = md.get("authorization");
  if (values.length === 0) return undefined;
  const text = values[0];
  const malformed = (why: string): never => {
    throw new BrokerError(
      "UNAUTHENTICATED",
      `malformed authorization header (${why}); expected "${HEADER_FORM}"`,
    );
  };
  if (typeof text !== "string") return malformed("not text");
  const space = text.indexOf(" ");
  if (space < 0 || text.slice(0, space) !== ALGORITHM) return malformed(`not ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of text.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return malformed(`cannot read "${part.trim()}"`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  // RocketMQ reads the access key as the Credential's first "/"-separated part.
  const accessKey = fields.get("Credential")?.split("/")[0];
  if (!accessKey) return malformed("no Credential");
  const hex = fields.get("Signature") ?? "";
  // Even length, or Buffer.from would drop a trailing digit and accept a signature with one more.
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return malformed("Signature is not hex");
  const dateTime = md.get("x-mq-date-time")[0];
  if (typeof dateTime !== "string" || dateTime.length === 0)
    return malformed("no x-mq-date-time header to check");
  return { accessKey, signature: Buffer.from(hex, "hex"), dateTime };
}

type Entry = readonly [string, number];

/** `perm` on each named resource; a resource without a name needs nothing here (its handler refuses it). */
function on(resources: Array<Resource | undefined>, perm: number): Entry[] {
  const out: Entry[] = [];
  for (const r of resources) if (typeof r?.name === "string" && r.name.length > 0) out.push([r.name, perm]);
  return out;
}

const consuming = (topic: Resource | undefined, group: Resource | undefined): Needs => ({
  topics: on([topic], Perm.SUB),
  groups: on([group], Perm.SUB),
});

interface TopicAndGroup {
  topic?: Resource;
  group?: Resource;
}

function needsOf(rpc: string, req: unknown): Needs {
  switch (rpc) {
    case "QueryRoute":
      return { topics: on([(req as QueryRouteRequest).topic], Perm.ANY) };
    case "SendMessage":
      return {
        topics: on(
          ((req as SendMessageRequest).messages ?? []).map((m) => m.topic),
          Perm.PUB,
        ),
      };
    case "RecallMessage":
    case "EndTransaction":
      return { topics: on([(req as TopicAndGroup).topic], Perm.PUB) };
    case "Heartbeat":
    case "NotifyClientTermination":
      return { groups: on([(req as TopicAndGroup).group], Perm.SUB) };
    case "ReceiveMessage": {
      const r = req as ReceiveMessageRequest;
      return consuming(r.messageQueue?.topic, r.group);
    }
    case "QueryAssignment":
    case "AckMessage":
    case "ChangeInvisibleDuration":
    case "ForwardMessageToDeadLetterQueue":
    case "SyncLiteSubscription": {
      const r = req as TopicAndGroup;
      return consuming(r.topic, r.group);
    }
    default:
      return {};
  }
}

function settingsNeeds(s: Settings): Needs {
  const subscribed = (s.subscription?.subscriptions ?? []).map((e) => e.topic);
  return {
    topics: [...on(s.publishing?.topics ?? [], Perm.PUB), ...on(subscribed, Perm.SUB)],
    groups: on([s.subscription?.group], Perm.SUB),
  };
}

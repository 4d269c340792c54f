// Access control for remoting requests: who signed the request (AccessKey and Signature ext fields, RocketMQ's
// ACL scheme) and which topics and groups it touches, by request code as RocketMQ's plain ACL reads them.
// Codes not listed need only a valid account; the admin codes need an admin account.
import type { Caller, Needs } from "../../../broker/acl/access-control.js";
import type { AccessControl } from "../../../broker/acl/access-control.js";
import { Perm } from "../../../broker/acl/permission.js";
import { ACCESS_KEY_FIELD, remotingSignature, SIGNATURE_FIELD } from "../../../common/acl-signature.js";
import { ipOfAddress } from "../../../common/socket-address.js";
import type { RemotingCommand } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import type { RequestGuard } from "../request-dispatcher.js";
import { RequestCode } from "../request-code.js";

const UNIQUE_KEY_QUERY = "_UNIQUE_KEY_QUERY";

const ADMIN_CODES: ReadonlySet<number> = new Set([
  RequestCode.UPDATE_AND_CREATE_TOPIC,
  RequestCode.UPDATE_AND_CREATE_TOPIC_LIST,
  RequestCode.UPDATE_BROKER_CONFIG,
  RequestCode.DELETE_TOPIC_IN_BROKER,
  RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST,
  RequestCode.DELETE_SUBSCRIPTIONGROUP,
  RequestCode.UPDATE_AND_CREATE_STATIC_TOPIC,
  RequestCode.INVOKE_BROKER_TO_RESET_OFFSET,
  // Writes a group's offsets (RocketMQ 5's ACL files it under UPDATE, as the reset above).
  RequestCode.CLONE_GROUP_OFFSET,
  // A broker's whole metadata: what a slave copies from its master (it signs with an admin account).
  RequestCode.GET_ALL_TOPIC_CONFIG,
  RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
  RequestCode.GET_ALL_CONSUMER_OFFSET,
  RequestCode.GET_ALL_DELAY_OFFSET,
]);

/** The guard a broker's remoting server runs before each handler. */
export function remotingAccessGuard(acl: AccessControl): RequestGuard {
  return (req, conn) => {
    if (!acl.enabled) return;
    acl.check(callerOf(req, conn), needsOf(req));
  };
}

function callerOf(req: RemotingCommand, conn: RemotingConnection): Caller {
  const f = req.extFields;
  return {
    accessKey: f[ACCESS_KEY_FIELD],
    ip: ipOfAddress(conn.remoteAddress),
    channel: conn,
    signedWith: (secret) => {
      const got = f[SIGNATURE_FIELD];
      if (got === undefined) return false;
      if (remotingSignature(secret, f, req.body) === got) return true;
      // Java clients up to 4.9.3 add the unique-key flag of a query after signing.
      return UNIQUE_KEY_QUERY in f && remotingSignature(secret, f, req.body, UNIQUE_KEY_QUERY) === got;
    },
  };
}

const pub = (topic: string | undefined): Needs =>
  topic === undefined ? {} : { topics: [[topic, Perm.PUB] as const] };

function needsOf(req: RemotingCommand): Needs {
  const f = req.extFields;
  const sub = (topic: string | undefined, group: string | undefined): Needs => ({
    topics: topic === undefined ? [] : [[topic, Perm.SUB] as const],
    groups: group === undefined ? [] : [[group, Perm.SUB] as const],
  });
  switch (req.code) {
    case RequestCode.SEND_MESSAGE:
    case RequestCode.RECALL_MESSAGE:
      return pub(f["topic"]);
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE:
      return pub(f["b"]);
    case RequestCode.CONSUMER_SEND_MSG_BACK:
      return sub(undefined, f["group"]);
    case RequestCode.PULL_MESSAGE:
    case RequestCode.QUERY_CONSUMER_OFFSET:
    case RequestCode.UPDATE_CONSUMER_OFFSET:
      return sub(f["topic"], f["consumerGroup"]);
    case RequestCode.QUERY_MESSAGE:
      return sub(f["topic"], undefined);
    case RequestCode.UNREGISTER_CLIENT:
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
      return sub(undefined, f["consumerGroup"]);
    case RequestCode.HEART_BEAT:
      return heartbeatNeeds(req.body);
    default:
      return ADMIN_CODES.has(req.code) ? { admin: true } : {};
  }
}

// What a heartbeat's consumer groups subscribe to. An unreadable body needs nothing here: the handler refuses it.
function heartbeatNeeds(body: Buffer | undefined): Needs {
  const needs = {
    topics: [] as Array<readonly [string, number]>,
    groups: [] as Array<readonly [string, number]>,
  };
  let hb: unknown;
  try {
    hb = JSON.parse((body ?? Buffer.alloc(0)).toString("utf8"));
  } catch {
    return needs;
  }
  const consumers = (hb as { consumerDataSet?: unknown } | null)?.consumerDataSet;
  if (!Array.isArray(consumers)) return needs;
  for (const c of consumers as Array<{ groupName?: unknown; subscriptionDataSet?: unknown } | null>) {
    if (typeof c?.groupName === "string") needs.groups.push([c.groupName, Perm.SUB]);
    const subs = c?.subscriptionDataSet;
    if (!Array.isArray(subs)) continue;
    for (const s of subs as Array<{ topic?: unknown } | null>) {
      // A retry topic among them (%RETRY%group) is checked as its group's (AccessControl.check).
      if (typeof s?.topic === "string") needs.topics.push([s.topic, Perm.SUB]);
    }
  }
  return needs;
}

// A remoting connection as the broker sees a client: an id for its registrations and a way to tell consumers
// their group changed (NOTIFY_CONSUMER_IDS_CHANGED, oneway; clients that ignore it rebalance on their timer).
import type { ClientChannel } from "../../../broker/client-manager.js";
import { createRequest } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { RequestCode } from "../request-code.js";

const KEY = "clientChannel";
let seq = 0;

export function channelOf(conn: RemotingConnection): ClientChannel {
  let ch = conn.attributes.get(KEY) as ClientChannel | undefined;
  if (!ch) {
    const id = `remoting-${++seq}-${conn.remoteAddress}`;
    ch = {
      id,
      remoteAddress: conn.remoteAddress,
      notifyConsumerIdsChanged(group: string) {
        if (!conn.closed)
          conn.oneway(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group }));
      },
    };
    conn.attributes.set(KEY, ch);
  }
  return ch;
}

/** The channel registered for a connection, if it made any registration. */
export function existingChannel(conn: RemotingConnection): ClientChannel | undefined {
  return conn.attributes.get(KEY) as ClientChannel | undefined;
}

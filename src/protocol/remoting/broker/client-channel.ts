// A remoting connection as the broker sees a client: an id for its registrations and the requests the broker
// sends clients: a consumer's group changed (NOTIFY_CONSUMER_IDS_CHANGED, oneway; clients that ignore it
// rebalance on their timer), a transaction check, an offset reset.
import type { ClientChannel, OffsetReset } from "../../../broker/client-manager.js";
import type { TransactionCheck } from "../../../broker/transaction-service.js";
import { createRequest } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { RequestCode } from "../request-code.js";
import { resetOffsetBody } from "./fastjson.js";

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
      // CHECK_TRANSACTION_STATE (39), oneway: header tranStateTableOffset, commitLogOffset, msgId, transactionId,
      // offsetMsgId; body the half message as sent. The producer answers with END_TRANSACTION.
      checkTransactionState(c: TransactionCheck) {
        if (conn.closed) return;
        const header = {
          tranStateTableOffset: String(c.halfQueueOffset),
          commitLogOffset: String(c.commitLogOffset),
          msgId: c.msgId,
          transactionId: c.transactionId,
          offsetMsgId: c.offsetMsgId,
        };
        conn.oneway(createRequest(RequestCode.CHECK_TRANSACTION_STATE, header, c.record));
      },
      // RESET_CONSUMER_CLIENT_OFFSET (220), oneway as Broker2Client sends it: header topic, group, timestamp,
      // isForce; body ResetOffsetBody. A Java consumer replaces the offsets it holds and re-pulls from them.
      resetConsumerOffset(r: OffsetReset) {
        if (conn.closed) return;
        const header = {
          topic: r.topic,
          group: r.group,
          timestamp: String(r.timestamp),
          isForce: String(r.force),
        };
        const body = resetOffsetBody(r.brokerName, r.topic, r.offsets);
        conn.oneway(createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, header, body));
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

// A remoting connection as the broker sees a client: an id for its registrations and a way to tell consumers
// their group changed (NOTIFY_CONSUMER_IDS_CHANGED, oneway; clients that ignore it rebalance on their timer).
import type { ClientChannel } from "../../../broker/client-manager.js";
import type { TransactionCheck } from "../../../broker/transaction-service.js";
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
    };
    conn.attributes.set(KEY, ch);
  }
  return ch;
}

/** The channel registered for a connection, if it made any registration. */
export function existingChannel(conn: RemotingConnection): ClientChannel | undefined {
  return conn.attributes.get(KEY) as ClientChannel | undefined;
}

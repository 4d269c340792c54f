// Binds the broker's remoting request codes to their handlers, and connection lifecycle to client tables.
import type { Broker } from "../../../broker/broker.js";
import { RequestCode } from "../request-code.js";
import type { RemotingServer } from "../server.js";
import {
  handleConsumeStats,
  handleConsumerConnectionList,
  handleCreateTopic,
  handleDeleteTopic,
  handleGetAllConsumerOffset,
  handleGetAllSubscriptionGroups,
  handleGetAllTopicConfig,
  handleTopicStats,
} from "./admin.js";
import { remotingAccessGuard } from "./access-check.js";
import {
  handleDeleteGroup,
  handleGetGroupConfig,
  handleGetTopicConfig,
  handleProducerConnectionList,
  handleTopicConsumeByWho,
  handleTopicsByConsumer,
  handleUpdateGroup,
} from "./admin-groups.js";
import { handleCloneGroupOffset, handleConsumeTimeSpan, handleResetOffset } from "./admin-offsets.js";
import { handleBrokerRuntimeInfo, handleGetBrokerConfig, handleUpdateBrokerConfig } from "./admin-runtime.js";
import { existingChannel } from "./client-channel.js";
import { handleGetConsumerList, handleHeartbeat, handleUnregisterClient } from "./client-manage.js";
import {
  handleEarliestMsgStoreTime,
  handleGetMaxOffset,
  handleGetMinOffset,
  handleQueryConsumerOffset,
  handleSearchOffsetByTimestamp,
  handleUpdateConsumerOffset,
} from "./offsets.js";
import { handleEndTransaction } from "./end-transaction.js";
import { handlePullMessage } from "./pull-message.js";
import { handleLockBatch, handleUnlockBatch } from "./queue-locks.js";
import { handleQueryMessage, handleViewMessageById } from "./query-message.js";
import { handleRecallMessage } from "./recall-message.js";
import { handleSendBack } from "./send-back.js";
import { handleSendMessage } from "./send-message.js";

export function registerBrokerHandlers(server: RemotingServer, broker: Broker): void {
  server.setGuard(remotingAccessGuard(broker.acl));
  const send = (
    req: Parameters<typeof handleSendMessage>[1],
    conn: Parameters<typeof handleSendMessage>[2],
  ) => handleSendMessage(broker, req, conn);
  server
    .registerHandler(RequestCode.SEND_MESSAGE, send)
    .registerHandler(RequestCode.SEND_MESSAGE_V2, send)
    .registerHandler(RequestCode.SEND_BATCH_MESSAGE, send)
    .registerHandler(RequestCode.PULL_MESSAGE, (req) => handlePullMessage(broker, req))
    .registerHandler(RequestCode.HEART_BEAT, (req, conn) => handleHeartbeat(broker, req, conn))
    .registerHandler(RequestCode.UNREGISTER_CLIENT, (req) => handleUnregisterClient(broker, req))
    .registerHandler(RequestCode.GET_CONSUMER_LIST_BY_GROUP, (req) => handleGetConsumerList(broker, req))
    .registerHandler(RequestCode.QUERY_CONSUMER_OFFSET, (req) => handleQueryConsumerOffset(broker, req))
    .registerHandler(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => handleUpdateConsumerOffset(broker, req))
    .registerHandler(RequestCode.GET_MAX_OFFSET, (req) => handleGetMaxOffset(broker, req))
    .registerHandler(RequestCode.GET_MIN_OFFSET, (req) => handleGetMinOffset(broker, req))
    .registerHandler(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, (req) =>
      handleSearchOffsetByTimestamp(broker, req),
    )
    .registerHandler(RequestCode.GET_EARLIEST_MSG_STORETIME, (req) => handleEarliestMsgStoreTime(broker, req))
    .registerHandler(RequestCode.CONSUMER_SEND_MSG_BACK, (req) => handleSendBack(broker, req))
    .registerHandler(RequestCode.QUERY_MESSAGE, (req) => handleQueryMessage(broker, req))
    .registerHandler(RequestCode.VIEW_MESSAGE_BY_ID, (req) => handleViewMessageById(broker, req))
    .registerHandler(RequestCode.UPDATE_AND_CREATE_TOPIC, (req) => handleCreateTopic(broker, req))
    .registerHandler(RequestCode.DELETE_TOPIC_IN_BROKER, (req) => handleDeleteTopic(broker, req))
    .registerHandler(RequestCode.GET_ALL_TOPIC_CONFIG, (req) => handleGetAllTopicConfig(broker, req))
    .registerHandler(RequestCode.GET_ALL_CONSUMER_OFFSET, (req) => handleGetAllConsumerOffset(broker, req))
    .registerHandler(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, (req) =>
      handleGetAllSubscriptionGroups(broker, req),
    )
    .registerHandler(RequestCode.GET_TOPIC_STATS_INFO, (req) => handleTopicStats(broker, req))
    .registerHandler(RequestCode.GET_CONSUME_STATS, (req) => handleConsumeStats(broker, req))
    .registerHandler(RequestCode.GET_CONSUMER_CONNECTION_LIST, (req) =>
      handleConsumerConnectionList(broker, req),
    )
    .registerHandler(RequestCode.GET_BROKER_RUNTIME_INFO, (req) => handleBrokerRuntimeInfo(broker, req))
    .registerHandler(RequestCode.GET_BROKER_CONFIG, (req) => handleGetBrokerConfig(broker, req))
    .registerHandler(RequestCode.UPDATE_BROKER_CONFIG, (req) => handleUpdateBrokerConfig(broker, req))
    .registerHandler(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, (req) => handleUpdateGroup(broker, req))
    .registerHandler(RequestCode.DELETE_SUBSCRIPTIONGROUP, (req) => handleDeleteGroup(broker, req))
    .registerHandler(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, (req) => handleGetGroupConfig(broker, req))
    .registerHandler(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, (req) => handleTopicConsumeByWho(broker, req))
    .registerHandler(RequestCode.QUERY_TOPICS_BY_CONSUMER, (req) => handleTopicsByConsumer(broker, req))
    .registerHandler(RequestCode.GET_PRODUCER_CONNECTION_LIST, (req) =>
      handleProducerConnectionList(broker, req),
    )
    .registerHandler(RequestCode.GET_TOPIC_CONFIG, (req) => handleGetTopicConfig(broker, req))
    .registerHandler(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, (req) => handleResetOffset(broker, req))
    .registerHandler(RequestCode.CLONE_GROUP_OFFSET, (req) => handleCloneGroupOffset(broker, req))
    .registerHandler(RequestCode.QUERY_CONSUME_TIME_SPAN, (req) => handleConsumeTimeSpan(broker, req))
    .registerHandler(RequestCode.LOCK_BATCH_MQ, (req) => handleLockBatch(broker, req))
    .registerHandler(RequestCode.UNLOCK_BATCH_MQ, (req) => handleUnlockBatch(broker, req))
    .registerHandler(RequestCode.END_TRANSACTION, (req) => handleEndTransaction(broker, req))
    .registerHandler(RequestCode.RECALL_MESSAGE, (req) => handleRecallMessage(broker, req));

  server.on("connectionClose", (conn) => {
    const ch = existingChannel(conn);
    if (ch) broker.channelClosed(ch.id);
  });
  broker.clients.onConsumerGroupChanged((group) => {
    const g = broker.clients.consumers.get(group);
    if (!g) return;
    for (const c of g.clients.values()) c.channel.notifyConsumerIdsChanged?.(group);
  });
}

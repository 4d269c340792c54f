// What a clustering consumer does with a message its listener did not consume (ConsumeMessageConcurrentlyService
// .sendMessageBack): CONSUMER_SEND_MSG_BACK to the broker it came from, delay level 0 (the broker picks
// 3 + reconsumeTimes, or the DLQ after maxReconsumeTimes); if that fails, a plain send to %RETRY%<group>
// carrying RETRY_TOPIC, ORIGIN_MESSAGE_ID and the next delay level, as the Java client's fallback does. When
// both fail the caller retries the message locally.
// Orderly consumers send a message that failed maxReconsumeTimes times straight to the dead-letter queue
// (sendToDeadLetter): CONSUMER_SEND_MSG_BACK with delay level -1, else a send to %RETRY%<group> whose
// reconsumeTimes has reached maxReconsumeTimes (the broker routes that to %DLQ%<group> too).
import { Prop, encodeProperties } from "../common/properties.js";
import { retryTopic } from "../common/topic.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { consumerSendMsgBack, sendMessage } from "./broker-api.js";
import { errorMessage } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import type { MQClient } from "./mq-client.js";

/** Java's delay levels go up to 18. */
const MAX_DELAY_LEVEL = 18;

/** CONSUMER_SEND_MSG_BACK to the broker the message came from; resolves false (logged) when it fails. */
async function brokerSendBack(
  client: MQClient,
  group: string,
  maxReconsumeTimes: number,
  msg: ReceivedMessage,
  delayLevel: number,
  logger: RemotingLogger,
): Promise<boolean> {
  try {
    const addr = client.routes.masterAddress(msg.brokerName) ?? msg.storeHost;
    await consumerSendMsgBack(
      client.remoting,
      addr,
      {
        offset: msg.commitLogOffset,
        group,
        delayLevel,
        originMsgId: msg.originMessageId ?? msg.messageId,
        originTopic: msg.topic,
        maxReconsumeTimes,
      },
      client.requestTimeoutMs,
    );
    return true;
  } catch (e) {
    logger.warn(
      { msgId: msg.messageId, delayLevel, err: errorMessage(e) },
      "send back failed; sending to retry topic",
    );
    return false;
  }
}

/** Resolves true when the broker took the message back. */
export async function sendBack(
  client: MQClient,
  group: string,
  maxReconsumeTimes: number,
  msg: ReceivedMessage,
  logger: RemotingLogger,
): Promise<boolean> {
  if (client.isClosed) return false;
  if (await brokerSendBack(client, group, maxReconsumeTimes, msg, 0, logger)) return true;
  if (await sendToRetryTopic(client, group, msg, msg.reconsumeTimes + 1, maxReconsumeTimes, logger))
    return true;
  logger.warn({ msgId: msg.messageId }, "retry send failed; retrying locally");
  return false;
}

/** Resolves true when the broker took the message for the dead-letter queue. */
export async function sendToDeadLetter(
  client: MQClient,
  group: string,
  maxReconsumeTimes: number,
  msg: ReceivedMessage,
  logger: RemotingLogger,
): Promise<boolean> {
  if (client.isClosed) return false;
  if (await brokerSendBack(client, group, maxReconsumeTimes, msg, -1, logger)) return true;
  return sendToRetryTopic(
    client,
    group,
    msg,
    Math.max(msg.reconsumeTimes, maxReconsumeTimes),
    maxReconsumeTimes,
    logger,
  );
}

/**
 * A plain send of `msg` to %RETRY%<group> with `reconsumeTimes`; the broker puts it in the dead-letter queue
 * when that reaches `maxReconsumeTimes`, else delays it by the next level.
 */
async function sendToRetryTopic(
  client: MQClient,
  group: string,
  msg: ReceivedMessage,
  reconsumeTimes: number,
  maxReconsumeTimes: number,
  logger: RemotingLogger,
): Promise<boolean> {
  try {
    const topic = retryTopic(group);
    const queues = await client.routes.publishQueues(topic);
    const mq = queues[Math.floor(Math.random() * queues.length)]!;
    const addr = client.routes.masterAddress(mq.brokerName);
    if (!addr) return false;
    const props = new Map(msg.systemProperties);
    props.set(Prop.RETRY_TOPIC, msg.topic);
    props.set(Prop.ORIGIN_MESSAGE_ID, msg.originMessageId ?? msg.messageId);
    props.set(Prop.DELAY, String(Math.min(3 + msg.reconsumeTimes, MAX_DELAY_LEVEL)));
    props.delete(Prop.TRAN_MSG);
    await sendMessage(
      client.remoting,
      addr,
      {
        producerGroup: "CLIENT_INNER_PRODUCER",
        topic,
        sysFlag: 0, // the body was inflated on receipt
        bornTimestamp: msg.bornTimestamp,
        flag: msg.flag,
        properties: encodeProperties(props),
        reconsumeTimes,
        maxReconsumeTimes,
      },
      mq.queueId,
      msg.body,
      client.requestTimeoutMs,
    );
    return true;
  } catch (e) {
    logger.warn(
      { msgId: msg.messageId, topic: retryTopic(group), err: errorMessage(e) },
      "retry topic send failed",
    );
    return false;
  }
}

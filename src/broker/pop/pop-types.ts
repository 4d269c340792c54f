// The receive/ack model of RocketMQ 5 (pop consumption), which the gRPC and HTTP endpoints serve: receiving makes
// a message invisible for a while and hands out a receipt handle; an ack removes it for good; a message not acked
// in time comes back with its delivery attempt increased, and goes to the group's dead-letter queue after the
// group's max attempts.
import type { MessageRecord } from "../../common/message-record.js";

export interface ReceiveRequest {
  group: string;
  topic: string;
  /** One queue of the topic; omitted or negative serves any queue. */
  queueId?: number;
  /** Tag expression (`*`, `A||B`) or SQL92 when `type` is "SQL92". */
  subscription: { expression: string; type?: string };
  /** 1..32 messages. */
  batchSize: number;
  /** How long the messages stay invisible to other receivers, ms. */
  invisibleMs: number;
  /** Long polling: wait up to this long when nothing is ready (0 answers at once). */
  pollTimeoutMs: number;
  /**
   * Queue-level order (the HTTP protocol's ordered consumption): a queue hands out nothing new while a batch
   * from it is in flight, and hands that batch out again, in order, once its invisible time ends.
   */
  queueOrder?: boolean;
  /** Deliveries before the dead-letter queue, instead of the group's retries + 1. */
  maxAttempts?: number;
  /** Ends a long poll early (the client went away). */
  signal?: AbortSignal;
}

export interface ReceivedMessage {
  /** The stored record of the message (its own topic, body, properties, born/store times and hosts). */
  record: MessageRecord;
  queueId: number;
  queueOffset: number;
  receiptHandle: string;
  /** 1 on the first delivery. */
  deliveryAttempt: number;
  /** When the message was first delivered to the group, ms since the epoch. */
  firstDeliveredAt: number;
  /** When the message becomes visible again unless acked, ms since the epoch. */
  invisibleUntil: number;
}

/** A receive over a set of single-queue topics served in order (lite topics): see PopService. */
export interface OrderedQueuesReceive {
  group: string;
  /** The topics to read (queue 0 of each), asked again on every pass of a long poll. */
  topics: () => string[];
  /** Told when a topic had nothing to hand out and nothing in flight (it may leave the set until written to). */
  idle?: (topic: string) => void;
  /** A key whose arrival (PopService.arrived) ends a long poll early: the set of topics changed. */
  wakeKey: string;
  batchSize: number;
  invisibleMs: number;
  pollTimeoutMs: number;
  maxAttempts?: number;
  signal?: AbortSignal;
}

// rocketmq-ts client SDK: a RocketMQ 4.x remoting producer and push consumer with the Aliyun ONS API shape.
export { Message } from "./message.js";
export type { ReceivedMessage, UserProperties } from "./message.js";
export {
  Producer,
  OrderProducer,
  TransactionProducer,
  TransactionStatus,
  shardingQueueIndex,
} from "./producer.js";
export type {
  ProducerOptions,
  SendOptions,
  SendResult,
  SendCallback,
  TransactionProducerOptions,
  TransactionSendResult,
  LocalTransactionChecker,
  LocalTransactionExecutor,
} from "./producer.js";
export { Consumer, Action, MessageModel } from "./consumer.js";
export type { ConsumerOptions, ConsumeFromWhere, MessageListener } from "./consumer.js";
export { MessageSelector } from "./subscription.js";
export type { SubscriptionExpression, ExpressionType } from "./subscription.js";
export type { ClientOptions } from "./client-config.js";
export type { SessionCredentials } from "../common/acl-signature.js";
export { MQClientError } from "./errors.js";
export type { MQClientErrorKind } from "./errors.js";
export type { MessageQueue } from "./route-cache.js";
export { allocateAveragely } from "./rebalance.js";

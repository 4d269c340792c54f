// The slice of @aliyunmq/mq-http-sdk (a CommonJS package without types) that the interop tests use.
export interface HttpSdkMessage {
  MessageId: string;
  ReceiptHandle: string;
  MessageBodyMD5: string;
  MessageBody: string;
  MessageTag?: string;
  MessageKey?: string;
  ShardingKey?: string;
  StartDeliverTime?: number;
  PublishTime: string;
  NextConsumeTime: string;
  FirstConsumeTime: string;
  ConsumedTimes: string;
  Properties: Record<string, string>;
}

export interface HttpSdkResult<T> {
  code: number;
  requestId: string;
  body: T;
}

export interface HttpSdkError extends Error {
  Code?: string;
}

/** Its setters return nothing (they cannot be chained). */
export interface MessageProperties {
  messageKey(k: string): void;
  startDeliverTime(ms: number): void;
  transCheckImmunityTime(s: number): void;
  shardingKey(k: string): void;
  putProperty(k: string, v: string): void;
}

export interface MQProducer {
  publishMessage(
    body: string,
    tag?: string,
    props?: MessageProperties,
  ): Promise<HttpSdkResult<{ MessageId: string; MessageBodyMD5: string; ReceiptHandle?: string }>>;
}

export interface MQTransProducer extends MQProducer {
  consumeHalfMessage(n: number, waitSeconds?: number): Promise<HttpSdkResult<HttpSdkMessage[]>>;
  commit(handle: string): Promise<HttpSdkResult<unknown>>;
  rollback(handle: string): Promise<HttpSdkResult<unknown>>;
}

export interface MQConsumer {
  consumeMessage(n: number, waitSeconds?: number): Promise<HttpSdkResult<HttpSdkMessage[]>>;
  consumeMessageOrderly(n: number, waitSeconds?: number): Promise<HttpSdkResult<HttpSdkMessage[]>>;
  ackMessage(
    handles: string[],
  ): Promise<HttpSdkResult<{ ErrorCode: string; ErrorMessage: string; ReceiptHandle: string }[] | undefined>>;
}

export interface MQClient {
  getProducer(instanceId: string, topic: string): MQProducer;
  getTransProducer(instanceId: string, topic: string, group: string): MQTransProducer;
  getConsumer(instanceId: string, topic: string, group: string, tag?: string): MQConsumer;
}

export interface HttpSdk {
  MQClient: new (endpoint: string, accessKeyId: string, accessKeySecret: string) => MQClient;
  MessageProperties: new () => MessageProperties;
}

// The slice of ali-ons (a CommonJS package without types) that the interop tests use.
export interface OnsMessage {
  topic: string;
  tags: string;
  keys: string[] | string;
  body: Buffer;
  msgId: string;
  reconsumeTimes: number;
  properties: Record<string, string>;
  queueOffset: number;
  delayTimeLevel: number;
  storeTimestamp: number;
  bornTimestamp: number;
  setStartDeliverTime(ms: number): void;
}

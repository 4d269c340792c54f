// Maps keyed by MessageQueue, as fastjson writes them and Java's admin and clients parse them back: the key is the
// queue object itself, `{"brokerName":..,"queueId":..,"topic":..}:value`, which is not standard JSON.

export function mqKey(brokerName: string, topic: string, queueId: number): string {
  return `{"brokerName":${JSON.stringify(brokerName)},"queueId":${queueId},"topic":${JSON.stringify(topic)}}`;
}

export function fastjsonMap(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${k}:${JSON.stringify(v)}`).join(",")}}`;
}

/** ResetOffsetBody: {"offsetTable":{MessageQueue:offset}} for queues of one topic on this broker. */
export function resetOffsetBody(
  brokerName: string,
  topic: string,
  offsets: ReadonlyMap<number, number>,
): Buffer {
  const entries: [string, unknown][] = [...offsets].map(([q, off]) => [mqKey(brokerName, topic, q), off]);
  return Buffer.from(`{"offsetTable":${fastjsonMap(entries)}}`);
}

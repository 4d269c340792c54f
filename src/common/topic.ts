// Topic configuration as RocketMQ's TopicConfig, shared by the broker (which owns it) and the NameServer (which
// publishes routes built from it). Permission bits are PermName's: READ 4, WRITE 2, INHERIT 1.

export const Perm = { READ: 4, WRITE: 2, INHERIT: 1, READ_WRITE: 6 } as const;

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: "SINGLE_TAG" | "MULTI_TAG";
  topicSysFlag: number;
  order: boolean;
  /** Extra attributes (RocketMQ 5 `attributes`, e.g. message.type=FIFO|DELAY|TRANSACTION|NORMAL). */
  attributes: Record<string, string>;
}

export function topicConfig(name: string, queues: number, perm: number = Perm.READ_WRITE): TopicConfig {
  return {
    topicName: name,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: "SINGLE_TAG",
    topicSysFlag: 0,
    order: false,
    attributes: {},
  };
}

export const RETRY_PREFIX = "%RETRY%";
export const DLQ_PREFIX = "%DLQ%";

export const SystemTopic = {
  DEFAULT: "TBW102",
  SCHEDULE: "SCHEDULE_TOPIC_XXXX",
  TRANS_HALF: "RMQ_SYS_TRANS_HALF_TOPIC",
  TRANS_OP_HALF: "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  TRANS_CHECK_MAX_TIME: "TRANS_CHECK_MAX_TIME_TOPIC",
  TRACE: "RMQ_SYS_TRACE_TOPIC",
  OFFSET_MOVED: "OFFSET_MOVED_EVENT",
  TIMER: "rmq_sys_wheel_timer",
} as const;

const SYSTEM_TOPICS = new Set<string>(Object.values(SystemTopic));

export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith("rmq_sys_");
}

/**
 * A topic or group of an instance on a shared broker: "ns%name", as RocketMQ's NamespaceUtil and ali-ons's
 * `namespace` write it (a name already carrying the namespace is left alone). Without a namespace, the name.
 */
export function withNamespace(namespace: string | undefined, name: string): string {
  if (!namespace || name.startsWith(`${namespace}%`)) return name;
  return `${namespace}%${name}`;
}

export function retryTopic(group: string): string {
  return RETRY_PREFIX + group;
}

export function dlqTopic(group: string): string {
  return DLQ_PREFIX + group;
}

const TOPIC_RE = /^[%|a-zA-Z0-9_-]+$/;

/** Why a topic name is not acceptable (TopicValidator), or undefined when it is. */
export function topicNameProblem(topic: string): string | undefined {
  if (!topic) return "topic is empty";
  if (!TOPIC_RE.test(topic)) return `topic "${topic.slice(0, 64)}" has characters outside [%|a-zA-Z0-9_-]`;
  const max = topic.startsWith(RETRY_PREFIX) || topic.startsWith(DLQ_PREFIX) ? 255 : 127;
  if (topic.length > max) return `topic is longer than ${max} characters`;
  return undefined;
}

/** Why a group name is not acceptable, or undefined when it is. */
export function groupNameProblem(group: string): string | undefined {
  if (!group) return "group is empty";
  if (!TOPIC_RE.test(group)) return `group "${group.slice(0, 64)}" has characters outside [%|a-zA-Z0-9_-]`;
  if (group.length > 120) return "group is longer than 120 characters";
  return undefined;
}

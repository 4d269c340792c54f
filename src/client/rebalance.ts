// Queue allocation for clustering consumers: RocketMQ's AllocateMessageQueueAveragely. Every member sorts the
// same queue list and the same consumer id list and takes its own contiguous block, so members agree without
// talking to each other. With q queues and c consumers, the first q % c consumers get ceil(q / c) queues and the
// rest floor(q / c); with more consumers than queues the extra consumers get none.

/** The items of `all` (already sorted) that consumer `self` owns among `consumerIds` (already sorted). */
export function allocateAveragely<T>(all: readonly T[], consumerIds: readonly string[], self: string): T[] {
  const index = consumerIds.indexOf(self);
  if (index < 0 || all.length === 0) return [];
  const n = consumerIds.length;
  const mod = all.length % n;
  const size =
    all.length <= n
      ? 1
      : mod > 0 && index < mod
        ? Math.floor(all.length / n) + 1
        : Math.floor(all.length / n);
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const range = Math.min(size, all.length - start);
  const out: T[] = [];
  for (let i = 0; i < range; i++) out.push(all[(start + i) % all.length]!);
  return out;
}

// What admins do to subscription groups beyond their settings: delete one, optionally with its offsets.
import type { Broker } from "../broker.js";

/**
 * Drops the group's configuration (a group still in use is made again on its next use, when auto-creation is on,
 * as in RocketMQ). With `cleanOffsets`, also its committed offsets and its receive (pop) state.
 */
export function deleteGroup(b: Broker, group: string, cleanOffsets: boolean): void {
  b.groups.delete(group);
  if (!cleanOffsets) return;
  for (const t of b.offsets.topicsOfGroup(group)) b.pop.forget(group, t);
  b.offsets.removeGroup(group);
  b.offsets.flush().catch(() => undefined);
}

// Queue leases for orderly consumption (RocketMQ RebalanceLockManager). A consumer locks the queues rebalance
// gave it before consuming them one message at a time; a lease lasts 60 s unless renewed, so a queue moves to a
// new owner only after the old one unlocked it or stopped renewing: order holds across rebalances.

export interface QueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface Lease {
  clientId: string;
  renewedAt: number;
}

export class QueueLockManager {
  private readonly groups = new Map<string, Map<string, Lease>>();

  constructor(readonly leaseMs = 60_000) {}

  private static key(q: QueueRef): string {
    return `${q.topic}\u0000${q.brokerName}\u0000${q.queueId}`;
  }

  /** Locks (or renews) every queue free or already held by `clientId`; returns the ones it now holds. */
  tryLock(group: string, clientId: string, queues: QueueRef[], now = Date.now()): QueueRef[] {
    let g = this.groups.get(group);
    if (!g) {
      g = new Map();
      this.groups.set(group, g);
    }
    const held: QueueRef[] = [];
    for (const q of queues) {
      const k = QueueLockManager.key(q);
      const lease = g.get(k);
      if (!lease || lease.clientId === clientId || now - lease.renewedAt > this.leaseMs) {
        g.set(k, { clientId, renewedAt: now });
        held.push(q);
      }
    }
    return held;
  }

  unlock(group: string, clientId: string, queues: QueueRef[]): void {
    const g = this.groups.get(group);
    if (!g) return;
    for (const q of queues) {
      const k = QueueLockManager.key(q);
      if (g.get(k)?.clientId === clientId) g.delete(k);
    }
    if (g.size === 0) this.groups.delete(group);
  }

  /** The client holding a live lease on the queue, if any. */
  owner(group: string, q: QueueRef, now = Date.now()): string | undefined {
    const lease = this.groups.get(group)?.get(QueueLockManager.key(q));
    return lease && now - lease.renewedAt <= this.leaseMs ? lease.clientId : undefined;
  }
}

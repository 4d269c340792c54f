// The NameServer's KV config (RocketMQ KVConfigManager): namespace → key → value. Used mostly for namespace
// ORDER_TOPIC_CONFIG. Pure: persisting is the owner's job (createNamesrv writes the snapshot to a file in
// Java's kvConfig.json shape, {"configTable":{ns:{key:value}}}, when given a path).

export type KvSnapshot = Record<string, Record<string, string>>;

export class KvConfigStore {
  private readonly table = new Map<string, Map<string, string>>();
  private readonly onChange: (() => void) | undefined;

  /** `onChange` runs after every put or delete that changed something (the owner persists there). */
  constructor(onChange?: () => void) {
    this.onChange = onChange;
  }

  put(namespace: string, key: string, value: string): void {
    let ns = this.table.get(namespace);
    if (ns === undefined) {
      ns = new Map();
      this.table.set(namespace, ns);
    }
    if (ns.get(key) === value) return;
    ns.set(key, value);
    this.onChange?.();
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /** Removes one key; an emptied namespace stays (as in Java), so GET_KVLIST_BY_NAMESPACE then finds {}. */
  delete(namespace: string, key: string): boolean {
    const removed = this.table.get(namespace)?.delete(key) ?? false;
    if (removed) this.onChange?.();
    return removed;
  }

  /** Every key of a namespace, or undefined when the namespace was never written. */
  list(namespace: string): Record<string, string> | undefined {
    const ns = this.table.get(namespace);
    return ns === undefined ? undefined : Object.fromEntries(ns);
  }

  snapshot(): KvSnapshot {
    const out: KvSnapshot = {};
    for (const [ns, kv] of this.table) out[ns] = Object.fromEntries(kv);
    return out;
  }

  /** Replaces the content with `snap` (at start, from the persisted file); does not call onChange. */
  load(snap: KvSnapshot): void {
    this.table.clear();
    for (const [ns, kv] of Object.entries(snap)) {
      const m = new Map<string, string>();
      for (const [k, v] of Object.entries(kv)) if (typeof v === "string") m.set(k, v);
      this.table.set(ns, m);
    }
  }
}

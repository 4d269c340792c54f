// ReceiveMessage calls in progress, by client id, so that their long polls can be ended early: all of them when
// the server stops, one client's when it announces its termination (a push consumer's shutdown otherwise waits
// for its polls to run out).
export class ReceivePolls {
  private readonly byClient = new Map<string, Set<AbortController>>();

  /** Registers a poll; the returned function unregisters it. */
  add(clientId: string | undefined, ac: AbortController): () => void {
    const key = clientId ?? "";
    let set = this.byClient.get(key);
    if (!set) {
      set = new Set();
      this.byClient.set(key, set);
    }
    set.add(ac);
    return () => {
      set.delete(ac);
      if (set.size === 0 && this.byClient.get(key) === set) this.byClient.delete(key);
    };
  }

  abortClient(clientId: string | undefined): void {
    for (const ac of this.byClient.get(clientId ?? "") ?? []) ac.abort();
  }

  abortAll(): void {
    for (const set of this.byClient.values()) for (const ac of set) ac.abort();
  }
}

// Data hooks: load once or poll an admin API path, and a rolling time series fed by a poll.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api";

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

/** Fetches `path` now and every `everyMs` (when given) until the component goes away or the path changes. */
export function useApi<T>(path: string | undefined, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, [path]);
  useEffect(() => {
    if (!path) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const d = await api<T>(path);
        if (!live) return;
        setData(d);
        setError(undefined);
      } catch (e) {
        if (live) setError((e as Error).message);
      }
      if (live && everyMs) timer = setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [path, everyMs, tick]);
  return { data, error, reload };
}

/** Keeps the last `max` samples [time (s), ...values] appended whenever `sample` changes identity. */
export function useSeries(sample: number[] | undefined, max = 120): number[][] {
  const rows = useRef<number[][]>([]);
  const [, force] = useState(0);
  const last = useRef<number[] | undefined>(undefined);
  useEffect(() => {
    if (!sample || sample === last.current) return;
    last.current = sample;
    rows.current = [...rows.current, [Date.now() / 1000, ...sample]].slice(-max);
    force((n) => n + 1);
  }, [sample, max]);
  return rows.current;
}

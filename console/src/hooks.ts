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

export interface Sample {
  /** Seconds since the epoch. */
  t: number;
  values: Record<string, number>;
}

/** Keeps the last `max` samples, one appended whenever `values` changes identity. */
export function useSeries(values: Record<string, number> | undefined, max = 120): Sample[] {
  const rows = useRef<Sample[]>([]);
  const [, force] = useState(0);
  const last = useRef<Record<string, number> | undefined>(undefined);
  useEffect(() => {
    if (!values || values === last.current) return;
    last.current = values;
    rows.current = [...rows.current, { t: Date.now() / 1000, values }].slice(-max);
    force((n) => n + 1);
  }, [values, max]);
  return rows.current;
}

export interface Action {
  error: string | undefined;
  /** What the last successful run reported. */
  result: string | undefined;
  /** Runs `fn`, keeping its error or the text it returns. */
  run: (fn: () => Promise<string | undefined>) => Promise<void>;
}

/** State of a button or form that calls the admin API: the last error or success message. */
export function useAction(): Action {
  const [error, setError] = useState<string | undefined>(undefined);
  const [result, setResult] = useState<string | undefined>(undefined);
  const run = useCallback(async (fn: () => Promise<string | undefined>) => {
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await fn());
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  return { error, result, run };
}

// Named settings as RocketMQ's admin reads and changes them (GET/UPDATE_NAMESRV_CONFIG, GET/UPDATE_BROKER_CONFIG):
// each lists its value, and some can change while the server runs. An update applies all its keys or none: every
// value is parsed before any is written, so a refusal never leaves half a change behind.
import { BrokerError } from "./errors.js";

export type SettingValue = string | number | boolean;

export interface Setting {
  read(): SettingValue;
  /** Absent: fixed at start-up. Returns the write to make, or throws BAD_REQUEST naming what is wrong. */
  parse?(key: string, value: string): () => void;
}

export const fixedSetting = (read: () => SettingValue): Setting => ({ read });

/** Only "true" and "false" (Java's Boolean.parseBoolean would take anything else as false, silently). */
export function booleanSetting(read: () => boolean, write: (v: boolean) => void): Setting {
  return {
    read,
    parse: (key, value) => {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false")
        throw new BrokerError("BAD_REQUEST", `${key} must be true or false, got "${value.slice(0, 32)}"`);
      return () => write(v === "true");
    },
  };
}

export function integerSetting(
  read: () => number,
  write: (v: number) => void,
  min: number,
  max: number,
): Setting {
  return {
    read,
    parse: (key, value) => {
      const n = Number(value.trim());
      if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max)
        throw new BrokerError(
          "BAD_REQUEST",
          `${key} must be an integer from ${min} to ${max}, got "${value.slice(0, 32)}"`,
        );
      return () => write(n);
    },
  };
}

export class SettingsTable {
  private readonly table: ReadonlyMap<string, Setting>;

  /** `server` names the server in refusals ("broker", "NameServer"). */
  constructor(
    private readonly server: string,
    entries: Iterable<readonly [string, Setting]>,
  ) {
    this.table = new Map(entries);
  }

  /** Every setting as [key, value], in the table's order. */
  list(): [string, SettingValue][] {
    return [...this.table].map(([k, s]) => [k, s.read()]);
  }

  /**
   * Applies all of `changes` or none: an unknown key, one fixed at start-up, or a value it cannot take refuses the
   * whole update (BAD_REQUEST naming the key). Returns whether anything was written.
   */
  update(changes: ReadonlyMap<string, string>): boolean {
    const writes: (() => void)[] = [];
    for (const [key, value] of changes) {
      const s = this.table.get(key);
      if (!s) throw new BrokerError("BAD_REQUEST", `${key} is not a ${this.server} setting`);
      if (!s.parse)
        throw new BrokerError("BAD_REQUEST", `${key} cannot change while the ${this.server} runs`);
      writes.push(s.parse(key, value));
    }
    for (const w of writes) w();
    return writes.length > 0;
  }
}

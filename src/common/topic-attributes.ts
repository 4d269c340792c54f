// Topic attributes (RocketMQ 5), as `mqadmin updateTopic -a` and UPDATE_AND_CREATE_TOPIC's `attributes` header
// write them: `+key=value` sets, `-key` removes, comma-separated. The keys this broker acts on are checked here;
// others are refused, as RocketMQ refuses attributes it does not know.
import { BrokerError } from "./errors.js";

const MESSAGE_TYPES = new Set(["NORMAL", "FIFO", "DELAY", "TRANSACTION", "MIXED", "LITE", "PRIORITY"]);
/** RocketMQ caps a lite topic's idle expiry at 30 days. */
const MAX_LITE_EXPIRATION_MIN = 30 * 24 * 60;

function checkValue(key: string, value: string): string {
  if (key === "message.type") {
    const v = value.toUpperCase();
    if (!MESSAGE_TYPES.has(v))
      throw new BrokerError(
        "BAD_REQUEST",
        `message.type ${value} is not one of ${[...MESSAGE_TYPES].join(", ")}`,
      );
    return v;
  }
  if (key === "lite.topic.expiration") {
    const n = Number(value);
    if (!(Number.isInteger(n) && (n === -1 || (n >= 1 && n <= MAX_LITE_EXPIRATION_MIN))))
      throw new BrokerError(
        "BAD_REQUEST",
        `lite.topic.expiration is minutes, -1 or 1..${MAX_LITE_EXPIRATION_MIN}`,
      );
    return String(n);
  }
  throw new BrokerError(
    "BAD_REQUEST",
    `unsupported topic attribute ${key} (message.type, lite.topic.expiration)`,
  );
}

/** `current` with the changes in `spec` ("+message.type=FIFO,-lite.topic.expiration") applied. */
export function applyTopicAttributes(
  current: Readonly<Record<string, string>>,
  spec: string | Record<string, string>,
): Record<string, string> {
  const out = { ...current };
  if (typeof spec !== "string") {
    for (const [k, v] of Object.entries(spec)) out[k] = checkValue(k, String(v));
    return out;
  }
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    if (!item) continue;
    if (item.startsWith("-")) {
      const key = item.slice(1);
      checkValue(key, key === "message.type" ? "NORMAL" : "-1");
      delete out[key];
      continue;
    }
    const at = item.indexOf("=");
    if (!item.startsWith("+") || at < 2)
      throw new BrokerError("BAD_REQUEST", `topic attribute "${item}" is not +key=value or -key`);
    const key = item.slice(1, at);
    out[key] = checkValue(key, item.slice(at + 1));
  }
  return out;
}

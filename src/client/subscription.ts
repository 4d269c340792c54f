// Tag subscription expressions as RocketMQ's FilterAPI.buildSubscriptionData reads them: "*", "" → everything;
// otherwise tags separated by "||", trimmed, each with its Java String.hashCode (the broker filters by the
// hash, the client again by the exact tag).
import { javaStringHashCode } from "../common/java-hash.js";
import type { SubscriptionData } from "./mq-client.js";

export function buildSubscriptionData(topic: string, expression: string | undefined): SubscriptionData {
  const sub = (expression ?? "").trim();
  const tags =
    sub === "" || sub === "*"
      ? []
      : sub
          .split("||")
          .map((t) => t.trim())
          .filter((t) => t.length > 0);
  const all = tags.length === 0 || tags.includes("*");
  return {
    topic,
    subString: all ? "*" : tags.join("||"),
    expressionType: "TAG",
    tagsSet: all ? [] : tags,
    codeSet: all ? [] : tags.map(javaStringHashCode),
    subVersion: Date.now(),
    classFilterMode: false,
  };
}

// Subscription expressions. Tags, as RocketMQ's FilterAPI.buildSubscriptionData reads them: "*", "" → everything;
// otherwise tags separated by "||", trimmed, each with its Java String.hashCode (the broker filters by the
// hash, the client again by the exact tag). SQL92 (`{ sql: "a > 5 AND region IN ('hz','sh')" }` or
// MessageSelector.bySql): the expression goes to the broker as is, with expressionType "SQL92", and the broker
// alone filters (by the message's properties; TAGS is one of them). A malformed SQL92 expression is refused by
// the broker when the consumer's heartbeat carries it (SUBSCRIPTION_PARSE_FAILED, with the error's position).
import { javaStringHashCode } from "../common/java-hash.js";
import { MQClientError } from "./errors.js";
import type { SubscriptionData } from "./mq-client.js";

export type ExpressionType = "TAG" | "SQL92";

/** A subscription's filter: a tag expression or an SQL92 property expression (RocketMQ MessageSelector). */
export class MessageSelector {
  private constructor(
    readonly type: ExpressionType,
    readonly expression: string,
  ) {}

  /** SQL92 over the message properties, e.g. `a > 5 AND region IN ('hz','sh')`. */
  static bySql(sql: string): MessageSelector {
    if (typeof sql !== "string" || sql.trim() === "") {
      throw new MQClientError("ILLEGAL_ARGUMENT", "an SQL92 selector needs an expression");
    }
    return new MessageSelector("SQL92", sql);
  }

  /** A tag expression: "*", "TagA", "TagA || TagB". */
  static byTag(tags: string): MessageSelector {
    return new MessageSelector("TAG", tags);
  }
}

/** What `Consumer.subscribe` takes as its filter: a tag expression, `{ sql }`, or a MessageSelector. */
export type SubscriptionExpression = string | { sql: string } | MessageSelector;

/** Normalizes a subscribe argument to a type and an expression; throws on anything else. */
export function readExpression(e: SubscriptionExpression | undefined): {
  type: ExpressionType;
  expr: string;
} {
  if (e === undefined || typeof e === "string") return { type: "TAG", expr: e ?? "*" };
  if (e instanceof MessageSelector) return { type: e.type, expr: e.expression };
  if (typeof e === "object" && e !== null && "sql" in e) {
    if (typeof e.sql !== "string" || e.sql.trim() === "") {
      throw new MQClientError("ILLEGAL_ARGUMENT", "an SQL92 subscription needs an expression");
    }
    return { type: "SQL92", expr: e.sql };
  }
  throw new MQClientError(
    "ILLEGAL_ARGUMENT",
    "subscription expression must be a string, { sql } or a MessageSelector",
  );
}

export function buildSubscriptionData(
  topic: string,
  expression: string | undefined,
  type: ExpressionType = "TAG",
): SubscriptionData {
  if (type === "SQL92") {
    return {
      topic,
      subString: (expression ?? "").trim(),
      expressionType: "SQL92",
      tagsSet: [],
      codeSet: [],
      subVersion: Date.now(),
      classFilterMode: false,
    };
  }
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

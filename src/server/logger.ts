// Structured logs through pino, in the (fields, message) shape every component takes.
import { pino } from "pino";
import type { Logger } from "pino";
import type { RemotingLogger } from "../protocol/remoting/logger.js";

export function createLogger(
  level: string,
  name: string,
): RemotingLogger & { child(name: string): RemotingLogger } {
  const root = pino({ level, name });
  const wrap = (l: Logger) => ({
    debug: (o: object, m?: string) => l.debug(o, m),
    info: (o: object, m?: string) => l.info(o, m),
    warn: (o: object, m?: string) => l.warn(o, m),
    error: (o: object, m?: string) => l.error(o, m),
  });
  return { ...wrap(root), child: (n: string) => wrap(root.child({ component: n })) };
}

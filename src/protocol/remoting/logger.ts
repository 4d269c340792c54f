// The few logging calls the transport makes. A pino logger fits this shape; tests pass nothing and get silence.

export interface RemotingLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: RemotingLogger = { debug: noop, info: noop, warn: noop, error: noop };

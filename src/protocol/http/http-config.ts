// Settings of the HTTP endpoint (the Alibaba Cloud MQ HTTP protocol). Its retry rules differ from the TCP
// protocols' and are its own: an un-acked message comes back after 5 minutes (ordered: 1 minute), up to 288
// times, then goes to the dead-letter queue.

export interface HttpEndpointConfig {
  /** Port to listen on (8080); 0 picks a free one. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** How long a consumed message stays invisible before it comes back (5 min). */
  invisibleMs: number;
  /** The same for ordered consumption (1 min). */
  orderInvisibleMs: number;
  /** Redeliveries before the dead-letter queue (288). */
  maxRetries: number;
  /** A pulled transaction check is offered again this long later unless resolved (10 s). */
  transactionCheckIntervalMs: number;
  /** Largest message body accepted (4 MiB). */
  maxBodyBytes: number;
  /** Requests whose Date is further off than this are refused when signatures are checked (15 min). */
  maxClockSkewMs: number;
  /**
   * Bearer token the admin API (/admin/..., used by the CLI's admin commands and the console) requires. Empty:
   * the admin API is open to anyone who can reach the port, which only suits a machine of one's own.
   */
  adminToken: string;
}

export function httpEndpointConfig(partial: Partial<HttpEndpointConfig> = {}): HttpEndpointConfig {
  return {
    port: 8080,
    host: "0.0.0.0",
    invisibleMs: 300_000,
    orderInvisibleMs: 60_000,
    maxRetries: 288,
    transactionCheckIntervalMs: 10_000,
    maxBodyBytes: 4 * 1024 * 1024,
    maxClockSkewMs: 15 * 60_000,
    adminToken: "",
    ...partial,
  };
}

// The NameServer: route registry and KV config (pure), and the factory that serves them over remoting.

export * from "./route-data.js";
export * from "./route-registry.js";
export * from "./kv-config.js";
export * from "./namesrv.js";

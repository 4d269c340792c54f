// A port that was free a moment ago, for processes that must be told their port up front (a broker restarted on
// the same port, the CLI's flags). Another process may take it meanwhile; tests that can use port 0 do.
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

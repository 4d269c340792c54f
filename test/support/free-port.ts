// A port that was free a moment ago, for processes that must be told their port up front (a broker restarted on
// the same port, the CLI's flags). Another process may take it meanwhile; tests that can use port 0 do.
// The OS may hand the same ephemeral port to two binds in a row once the first is closed, so a port this process
// was given once is never given again, and a test asking for five ports gets five. (CI once saw `start` fail with
// EADDRINUSE on a port the test had just been given.)
import { createServer } from "node:net";

const given = new Set<number>();

function onePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await onePort();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}

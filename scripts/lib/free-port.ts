import net from "node:net";

/**
 * A free TCP port on 127.0.0.1: free when asked, for a process that binds it right after
 * (a child server, a PostgreSQL cluster). The one helper of the tests, the bench and CI.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

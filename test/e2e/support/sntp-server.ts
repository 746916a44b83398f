import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { encodeSntpReply } from "../../../src/machinery/time/sntp-packet.js";

/**
 * A real SNTP server on the host answering every request with the host's
 * clock (stratum 1, "LOCL"). Guests reach it through QEMU user networking:
 * UDP to 10.0.2.2:<port> arrives at the host's 127.0.0.1:<port>.
 */
export class HostSntpServer {
  private constructor(private readonly sock: Socket, readonly port: number, readonly requests: { count: number }) {}

  static async start(): Promise<HostSntpServer> {
    const sock = createSocket("udp4");
    const requests = { count: 0 };
    sock.on("message", (msg, from) => {
      if (msg.length < 48) return;
      requests.count++;
      const now = Date.now();
      sock.send(encodeSntpReply(msg, now, Date.now()), from.port, from.address);
    });
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(0, "127.0.0.1", resolve);
    });
    return new HostSntpServer(sock, (sock.address() as AddressInfo).port, requests);
  }

  close(): void {
    this.sock.close();
  }
}

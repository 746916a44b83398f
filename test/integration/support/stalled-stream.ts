import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** A client certificate and the CA to verify the node with, as PEM. */
export interface TlsFiles {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** How a stalled call ended once its client read again: gRPC status from the trailers and how many messages came before it. */
export interface StreamEnd {
  status: number;
  message: string;
  messages: number;
}

export interface StalledStream {
  stream: ClientHttp2Stream;
  /** Starts reading: counts the gRPC messages and resolves with the status the node ended the call with (rejects after `timeoutMs`). */
  drain(timeoutMs: number): Promise<StreamEnd>;
  close(): void;
}

/**
 * Opens a gRPC server-streaming call with Node's bare HTTP/2 client and never
 * reads from it: the stream is paused before the first byte arrives, so HTTP/2
 * flow control stops the node once the stream window (64 KiB) is full. This
 * is the "client that never reads" of the abuse tests; grpc-js's own client
 * keeps a buffer of its own, which would hide what the node does.
 */
export async function stalledStream(address: string, tls: TlsFiles, path: string, request: Buffer): Promise<StalledStream> {
  const session: ClientHttp2Session = connect(`https://${address}`, {
    ca: tls.caPem,
    cert: tls.certPem,
    key: tls.keyPem,
    minVersion: "TLSv1.3",
    ALPNProtocols: ["h2"],
    checkServerIdentity: () => undefined,
  });
  session.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => undefined);
  stream.pause();
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(request.length, 1);
  request.copy(frame, 5);
  stream.end(frame);
  // Trailers (or a trailers-only response's headers) carry the status; both may arrive while paused.
  let trailers: Record<string, unknown> | undefined;
  stream.on("response", (h) => {
    if (h["grpc-status"] !== undefined) trailers = h;
  });
  stream.on("trailers", (h) => (trailers = h));
  return {
    stream,
    drain(timeoutMs: number): Promise<StreamEnd> {
      return new Promise<StreamEnd>((resolve, reject) => {
        let bytes = Buffer.alloc(0);
        let messages = 0;
        const timer = setTimeout(() => reject(new Error(`the stream did not end within ${timeoutMs} ms (${messages} messages read)`)), timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          if (!trailers) return reject(new Error(`the stream closed without a gRPC status (${messages} messages read)`));
          resolve({ status: Number(trailers["grpc-status"]), message: decodeURIComponent(String(trailers["grpc-message"] ?? "")), messages });
        };
        stream.on("data", (d: Buffer) => {
          bytes = Buffer.concat([bytes, d]);
          // Length-prefixed messages: 1 byte flag, 4 bytes length, the message.
          while (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt32BE(1)) {
            bytes = bytes.subarray(5 + bytes.readUInt32BE(1));
            messages++;
          }
        });
        if (stream.closed) finish();
        else stream.once("close", finish);
        stream.resume();
      });
    },
    close() {
      stream.close();
      session.close();
    },
  };
}

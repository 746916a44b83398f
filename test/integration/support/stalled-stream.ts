import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** A client certificate and the CA to verify the node with, as PEM. */
export interface TlsFiles {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Opens a gRPC server-streaming call with Node's bare HTTP/2 client and never
 * reads from it: the stream is paused before the first byte arrives, so HTTP/2
 * flow control stops the node once the stream window (64 KiB) is full. This
 * is the "client that never reads" of the abuse tests; grpc-js's own client
 * keeps a buffer of its own, which would hide what the node does.
 */
export async function stalledStream(address: string, tls: TlsFiles, path: string, request: Buffer): Promise<{ stream: ClientHttp2Stream; close(): void }> {
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
  return {
    stream,
    close() {
      stream.close();
      session.close();
    },
  };
}

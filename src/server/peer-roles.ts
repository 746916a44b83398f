import type { ServerUnaryCall } from "@grpc/grpc-js";

/** The TLS facts grpc-js exposes about a call (peer certificate). */
export type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

/**
 * The HTTP/2 session (one TLS connection) a call arrived on, when grpc-js
 * lets us see it. getAuthContext() converts the whole peer certificate to a
 * JS object on every call (~65 µs, the largest per-call cost measured by
 * `npm run bench`); a TLS 1.3 connection cannot change its client
 * certificate, so the roles are derived once per session instead. This
 * walks grpc-js internals (pinned version); when they move, it returns
 * undefined and every call takes the slow, always-correct path.
 */
export function sessionOf(call: unknown): object | undefined {
  let node = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && node && typeof node === "object"; depth++) {
    const session = (node as { stream?: { session?: unknown } }).stream?.session;
    if (session && typeof session === "object") return session;
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** Client roles from the verified certificate's subject O entries; undefined when there is no verified certificate. */
export function rolesFromAuth(auth: AuthContext): string[] | undefined {
  const cert = auth.sslPeerCertificate;
  if (!cert || !cert.subject) return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  return o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
}

const bySession = new WeakMap<object, readonly string[]>();

/** Roles of the caller, computed once per TLS session when the session is visible. */
export function peerRoles(call: { getAuthContext(): AuthContext }): readonly string[] | undefined {
  const session = sessionOf(call);
  const cached = session ? bySession.get(session) : undefined;
  if (cached) return cached;
  const roles = rolesFromAuth(call.getAuthContext());
  if (roles && session) bySession.set(session, roles);
  return roles;
}

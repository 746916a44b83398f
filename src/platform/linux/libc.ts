import koffi from "koffi";
import { sysError } from "./errno.js";

/**
 * Typed koffi bindings to the few libc calls Cairn needs. This file is the
 * only one that declares native prototypes; everything else calls through
 * `libc()` and turns a -1 into a CairnError with `check`.
 *
 * Pointers are passed as Buffers: koffi hands the buffer's memory to C
 * directly, so ioctl/recvfrom results appear in the same Buffer.
 */
export interface Libc {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  /** syscall(2) for calls glibc does not wrap (finit_module); variadic: pass (type, value) pairs. */
  syscall(nr: number, ...typedArgs: unknown[]): number;
  reboot(cmd: number): number;
  sync(): void;
  sethostname(name: string, len: number): number;
  ioctl(fd: number, request: number, arg: Buffer | null): number;
  /** ioctl whose argument is a `struct rtentry` (SIOCADDRT): it holds a `char *` so koffi marshals it. */
  ioctlRoute(fd: number, request: number, route: RtEntry): number;
  /** ioctl(BLKPG) on a whole-disk fd: add, delete or resize one partition in the kernel's view. */
  ioctlBlkpg(fd: number, request: number, arg: BlkpgArg): number;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number): number;
  recvfrom(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, addrLen: Buffer | null): number;
  close(fd: number): number;
  waitid(idtype: number, id: number, infop: Buffer, options: number): number;
  getrandom(buf: Buffer, len: number, flags: number): number;
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  /** Waits until a terminal fd's output has been transmitted (the serial console before power-off). */
  tcdrain(fd: number): number;
  /** clock_settime(2) with a 16-byte struct timespec (tv_sec, tv_nsec as int64). */
  clock_settime(clockId: number, ts: Buffer): number;
  /** unshare(2): tests move their thread into a fresh network namespace to try network ioctls safely. */
  unshare(flags: number): number;
  /** mkfifo(3): the named pipes containerd's shim writes a workload's stdout/stderr into. */
  mkfifo(path: string, mode: number): number;
}

/** `struct sockaddr` as bytes: family then 14 bytes of address data. */
export interface SockaddrBytes {
  sa_family: number;
  sa_data: number[];
}

/** `struct rtentry` fields Cairn sets; the pads are zero. */
export interface RtEntry {
  rt_pad1: number;
  rt_dst: SockaddrBytes;
  rt_gateway: SockaddrBytes;
  rt_genmask: SockaddrBytes;
  rt_flags: number;
  rt_pad2: number;
  rt_pad3: number;
  rt_pad4: null;
  rt_metric: number;
  rt_dev: string | null;
  rt_mtu: number;
  rt_window: number;
  rt_irtt: number;
}

/** `struct blkpg_ioctl_arg` with its `struct blkpg_partition`; start and length in bytes. */
export interface BlkpgArg {
  op: number;
  flags: number;
  datalen: number;
  data: { start: bigint | number; length: bigint | number; pno: number; devname: string; volname: string };
}

let cached: Libc | undefined;

/**
 * Loads libc once per process: the handle is process-wide in the dynamic
 * linker anyway, and koffi prototypes are costly to build under TCG.
 */
export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load("libc.so.6");
  const sockaddr = koffi.struct("cairn_sockaddr", { sa_family: "uint16_t", sa_data: koffi.array("uint8_t", 14) });
  const rtentry = koffi.struct("cairn_rtentry", {
    rt_pad1: "unsigned long",
    rt_dst: sockaddr,
    rt_gateway: sockaddr,
    rt_genmask: sockaddr,
    rt_flags: "unsigned short",
    rt_pad2: "short",
    rt_pad3: "unsigned long",
    rt_pad4: "void *",
    rt_metric: "short",
    rt_dev: "const char *",
    rt_mtu: "unsigned long",
    rt_window: "unsigned long",
    rt_irtt: "unsigned short",
  });
  const blkpgPartition = koffi.struct("cairn_blkpg_partition", {
    start: "long long",
    length: "long long",
    pno: "int",
    devname: koffi.array("char", 64),
    volname: koffi.array("char", 64),
  });
  const blkpgArg = koffi.struct("cairn_blkpg_ioctl_arg", {
    op: "int",
    flags: "int",
    datalen: "int",
    data: koffi.pointer(blkpgPartition),
  });
  cached = {
    mount: lib.func("int mount(const char *, const char *, const char *, unsigned long, const char *)"),
    umount2: lib.func("int umount2(const char *, int)"),
    syscall: lib.func("long syscall(long, ...)"),
    reboot: lib.func("int reboot(int)"),
    sync: lib.func("void sync(void)"),
    sethostname: lib.func("int sethostname(const char *, size_t)"),
    ioctl: lib.func("int ioctl(int, unsigned long, void *)"),
    ioctlRoute: lib.func("ioctl", "int", ["int", "unsigned long", koffi.pointer(rtentry)]),
    ioctlBlkpg: lib.func("ioctl", "int", ["int", "unsigned long", koffi.pointer(blkpgArg)]),
    socket: lib.func("int socket(int, int, int)"),
    setsockopt: lib.func("int setsockopt(int, int, int, void *, uint32_t)"),
    bind: lib.func("int bind(int, void *, uint32_t)"),
    sendto: lib.func("long sendto(int, void *, size_t, int, void *, uint32_t)"),
    recvfrom: lib.func("long recvfrom(int, void *, size_t, int, void *, void *)"),
    close: lib.func("int close(int)"),
    waitid: lib.func("int waitid(int, uint32_t, void *, int)"),
    getrandom: lib.func("long getrandom(void *, size_t, unsigned int)"),
    prctl: lib.func("int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)"),
    unshare: lib.func("int unshare(int)"),
    clock_settime: lib.func("int clock_settime(int, void *)"),
    tcdrain: lib.func("int tcdrain(int)"),
    mkfifo: lib.func("int mkfifo(const char *, uint32_t)"),
  } as Libc;
  return cached;
}

/** Size in bytes of the `struct blkpg_partition` koffi marshals (152 on x86_64). */
export const BLKPG_PARTITION_SIZE = 152;

/** The calling thread's errno right after a failed call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws `${what}: ${ENAME}` when a libc call returned a negative value; returns it otherwise. */
export function check(ret: number, what: string): number {
  if (ret < 0) throw sysError(what, koffi.errno());
  return ret;
}

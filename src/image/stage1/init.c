/*
 * Cairn stage 1: the /init of the initramfs.
 *
 * Why C and not Node: the kernel unpacks every byte of the initramfs before
 * it runs /init. Node is 100+ MB; this program is ~800 KB static. Keeping Node
 * on the squashfs root means the kernel unpacks ~2 MB and Node's pages are
 * read on demand. This program does the minimum to reach that root and then
 * execs Node so that Node keeps PID 1.
 *
 * Steps: mount /proc /sys /dev; load the modules listed (in dependency order,
 * computed from modules.dep at build time) in /etc/cairn/stage1-modules;
 * read cairn.slot=A|B from /proc/cmdline; find the partition whose GPT name
 * is ROOT-<slot>; mount it (squashfs, read-only) at /newroot; delete the
 * initramfs files; move /dev /proc /sys under it; switch root; exec Node.
 * Any failure prints a message on the console and reboots after 5 s so that
 * systemd-boot's boot counting can fall back to the other slot.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT "/newroot"
#define MODULE_LIST "/etc/cairn/stage1-modules"
#define NODE_BIN "/usr/bin/node"
#define MACHINED "/usr/lib/cairn/machined.mjs"

static void msg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cairn-stage1: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Prints why, waits 5 s so the message can be read, then reboots. */
static void fail(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  fputs("cairn-stage1: FATAL: ", stderr);
  vfprintf(stderr, fmt, ap);
  if (err) fprintf(stderr, ": %s", strerror(err));
  fputs("\ncairn-stage1: rebooting in 5 s\n", stderr);
  va_end(ap);
  sleep(5);
  sync();
  reboot(RB_AUTOBOOT);
  for (;;) pause();
}

static void mount_or_fail(const char *src, const char *dst, const char *type, unsigned long flags) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, NULL) != 0) fail("mount %s on %s (%s)", src, dst, type ? type : "move");
}

static void load_modules(void) {
  FILE *f = fopen(MODULE_LIST, "r");
  if (!f) fail("open %s", MODULE_LIST);
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    int fd = open(line, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open module %s", line);
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) fail("finit_module %s", line);
    close(fd);
  }
  fclose(f);
}

/* Copies the value of key=VALUE from the kernel command line into out. */
static int cmdline_value(const char *key, char *out, size_t len) {
  char buf[4096] = {0};
  int fd = open("/proc/cmdline", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  size_t klen = strlen(key);
  for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
    if (strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
      snprintf(out, len, "%s", tok + klen + 1);
      return 0;
    }
  }
  return -1;
}

/* Finds the block device whose uevent has PARTNAME=<name>; writes /dev/<dev>. */
static int find_partition(const char *name, char *out, size_t len) {
  DIR *d = opendir("/sys/class/block");
  if (!d) return -1;
  char want[128], path[512], buf[1024];
  snprintf(want, sizeof want, "PARTNAME=%s\n", name);
  struct dirent *e;
  int found = -1;
  while (found < 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/sys/class/block/%s/uevent", e->d_name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    if (strstr(buf, want)) {
      snprintf(out, len, "/dev/%s", e->d_name);
      found = 0;
    }
  }
  closedir(d);
  return found;
}

/* Deletes the initramfs contents (same device as /) to give the RAM back. */
static void delete_tree(int dirfd, dev_t rootdev) {
  DIR *d = fdopendir(dirfd);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != rootdev) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub >= 0) delete_tree(sub, rootdev);
      unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
    } else {
      unlinkat(dirfd, e->d_name, 0);
    }
  }
  closedir(d);
}

/* Maps only the page a fault asks for instead of up to 16 already-cached
 * neighbours (the kernel's 64 KiB default): squashfs fills the page cache a
 * whole block at a time, so with fault-around Node's RSS counted ~45 MiB of
 * its binary, much of it never executed. The knob lives in debugfs, which is
 * mounted just for this and unmounted again. Best effort. */
static void limit_fault_around(void) {
  if (mount("debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return;
  int fd = open("/sys/kernel/debug/fault_around_bytes", O_WRONLY);
  if (fd >= 0) {
    if (write(fd, "4096", 4) != 4) msg("fault_around_bytes: %s", strerror(errno));
    close(fd);
  }
  umount("/sys/kernel/debug");
}

int main(void) {
  mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mount_or_fail("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);

  load_modules();
  limit_fault_around();

  char slot[8] = {0};
  if (cmdline_value("cairn.slot", slot, sizeof slot) != 0 || (strcmp(slot, "A") && strcmp(slot, "B"))) {
    errno = 0;
    fail("kernel cmdline needs cairn.slot=A or cairn.slot=B");
  }
  char partname[16], dev[300];
  snprintf(partname, sizeof partname, "ROOT-%s", slot);

  /* virtio_blk probes asynchronously: poll for up to 10 s. */
  struct timespec tick = {0, 20 * 1000 * 1000};
  int tries = 0;
  while (find_partition(partname, dev, sizeof dev) != 0) {
    if (++tries > 500) { errno = 0; fail("no partition named %s appeared within 10 s", partname); }
    nanosleep(&tick, NULL);
  }
  msg("slot %s: mounting %s (%s) read-only", slot, dev, partname);
  mkdir(NEWROOT, 0755);
  if (mount(dev, NEWROOT, "squashfs", MS_RDONLY | MS_NODEV, NULL) != 0) fail("mount %s as squashfs", dev);
  if (access(NEWROOT NODE_BIN, X_OK) != 0) fail("%s has no %s", partname, NODE_BIN);

  struct stat rootst;
  if (stat("/", &rootst) == 0) {
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    if (rootfd >= 0) delete_tree(rootfd, rootst.st_dev);
  }

  mount_or_fail("/dev", NEWROOT "/dev", NULL, MS_MOVE);
  mount_or_fail("/proc", NEWROOT "/proc", NULL, MS_MOVE);
  mount_or_fail("/sys", NEWROOT "/sys", NULL, MS_MOVE);
  if (chdir(NEWROOT) != 0) fail("chdir " NEWROOT);
  if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) fail("move " NEWROOT " to /");
  if (chroot(".") != 0) fail("chroot");
  if (chdir("/") != 0) fail("chdir /");

  /* V8 memory flags (docs/boot-performance.md, measured per flag): a 1 MiB
   * semi-space instead of the default 16+ MiB young generation, and lite mode
   * (no optimizing compilers, lazy feedback vectors) take PID 1's RSS from
   * ~96 to ~60 MiB; a node agent's JS is not hot enough to need TurboFan. */
  char *argv[] = {"node", "--max-semi-space-size=1", "--lite-mode", MACHINED, "--mode", "metal", NULL};
  char *envp[] = {"PATH=/usr/bin", "HOME=/", "LANG=C.UTF-8", NULL};
  execve(NODE_BIN, argv, envp);
  fail("execve " NODE_BIN);
  return 1;
}

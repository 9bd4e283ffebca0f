// berth-sys: the few Linux syscalls berthd makes on every container start and exit, which
// Node has no binding for (DESIGN.md, "Known constraints of the platform"): mount(2),
// umount2(2), and a new network namespace held by a bind mount on a file.
//
// Why an addon of our own rather than util-linux mount/umount/unshare: each spawn of a
// binary blocks berthd's event loop 1-2.5 ms in fork() of the ~70 MB daemon, and the binary
// then spends 1-2 ms starting (libmount) to make one syscall; a bridge container's run does
// four of them (bench/mount-syscalls.ts measures both ways). Here each call is napi async work:
// the syscall runs on libuv's threadpool and the JS side gets a Promise, so the event loop
// never waits on the kernel. src/util/native-sys.ts loads this file; when it is absent (no
// compiler on the build host) or BERTH_NATIVE=0, berthd spawns the binaries as before.
//
// berth-spawn.c, linked into the same addon, starts berthd's short commands and conmon without
// a fork of the daemon (its top comment says how). This file holds the module's init.
//
// Errors reject with an Error shaped like Node's fs errors: code ('EBUSY'), errno (negative,
// as in Node), syscall and path, and "EBUSY: Device or resource busy, umount2 '/x'" as message.
//
// Two operations cannot run on the pool thread itself, and run in a child instead:
// - an overlay mount whose lowerdirs are relative (the snapshotter keeps them short to fit
//   the kernel's one-page mount data limit): mount(2) resolves them against the cwd, which a
//   pool thread shares with the whole daemon, and chdir() of the daemon would race every
//   relative path in it. unshare(CLONE_FS) on the pool thread would keep a private cwd for
//   good and break later relative-path fs work that lands on that thread. The new mount API
//   (fsopen/fsconfig "lowerdir+", one layer per call, no page limit) avoids cwd but needs
//   Linux 6.8 (layers by fd: 6.13), and Debian 12 runs 6.1: one path for all kernels here.
// - a new network namespace: unshare(CLONE_NEWNET) + setns() back on a pool thread would
//   leave that thread in the new namespace if the way back failed.
// The child is vfork-style: clone(CLONE_VM | CLONE_VFORK), so nothing of the daemon's memory
// is copied (no page tables, unlike fork), and the pool thread (only it) waits until the child
// exits. The child gets its own copy of cwd (no CLONE_FS) or its own network namespace
// (CLONE_NEWNET), makes its syscalls, and exits; nothing of it stays in the daemon. It runs
// with every signal blocked (so no handler of the daemon ever runs on its stack), calls only
// syscall wrappers, and writes its result into the request it shares with the parent.
// Measured (bench/mount-syscalls.ts): an overlay mount+umount2 takes ~0.5 ms either way, with
// absolute lowerdirs on the pool thread or relative ones through the child (within noise).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include "berth-netlink.h"
#include "berth-sys.h"

/** The vfork-style child's stack, on the waiting pool thread's own stack (it is suspended meanwhile). */
#define CHILD_STACK_BYTES (32 * 1024)

typedef enum { OP_MOUNT, OP_UMOUNT, OP_NETNS, OP_PLUG } op_kind;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  op_kind kind;
  char *source;
  char *target;
  char *fstype;
  char *data;
  char *cwd;
  unsigned long flags;
  /* OP_PLUG: the endpoint (target: the namespace file), and the namespace's fd while the child runs. */
  plug_args *plug;
  int ns_fd;
  /* Set by the syscall that failed (possibly in the child): errno, its name, and its path. */
  volatile int err;
  const char *volatile syscall;
  const char *volatile path;
} request;

static void fail(request *r, int err, const char *syscall, const char *path) {
  r->err = err;
  r->syscall = syscall;
  r->path = path;
}

static void do_mount(request *r) {
  if (mount(r->source, r->target, r->fstype, r->flags, r->data) != 0) fail(r, errno, "mount", r->target);
}

static int child_mount(void *arg) {
  request *r = arg;
  if (chdir(r->cwd) != 0) {
    fail(r, errno, "chdir", r->cwd);
    return 1;
  }
  do_mount(r);
  return r->err ? 1 : 0;
}

/**
 * No IPv6 on the interfaces the namespace gets from now on (its eth0): berth's networks are
 * IPv4, and dockerd disables IPv6 on their interfaces too. Without it eth0 takes a link-local
 * address and talks IPv6 to the other containers on its bridge past the IPv4 firewall rules.
 * lo, made with the namespace, keeps ::1. A host without IPv6 has no such file: nothing to do.
 */
static int disable_ipv6_by_default(void) {
  int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  int err = write(fd, "1", 1) == 1 ? 0 : errno;
  close(fd);
  return err;
}

static int child_netns(void *arg) {
  request *r = arg;
  // /proc/sys/net is the namespace of the task that opens it: this child's, the new one.
  int err = disable_ipv6_by_default();
  if (err) {
    fail(r, err, "write", "/proc/sys/net/ipv6/conf/default/disable_ipv6");
    return 1;
  }
  // /proc/self is this child (its own thread group), already in the new namespace.
  if (mount("/proc/self/ns/net", r->target, NULL, MS_BIND, NULL) != 0) {
    fail(r, errno, "mount", r->target);
    return 1;
  }
  return 0;
}

static int child_plug(void *arg) {
  request *r = arg;
  if (setns(r->ns_fd, CLONE_NEWNET) != 0) {
    fail(r, errno, "setns", r->target);
    return 1;
  }
  const char *step = "netlink";
  int err = berth_plug_inside(r->plug, &step);
  if (err) {
    fail(r, err, step, r->plug->if_name);
    return 1;
  }
  return 0;
}

/** Runs fn(r) in a vfork-style child with `flags` added to CLONE_VM | CLONE_VFORK; waits for it. */
static void run_in_child(int (*fn)(void *), request *r, int flags) {
  char stack[CHILD_STACK_BYTES] __attribute__((aligned(16)));
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // Exit signal 0: no SIGCHLD wakes libuv's handler for a child it does not own; __WALL reaps it.
  pid_t pid = clone(fn, stack + sizeof stack, CLONE_VM | CLONE_VFORK | flags, r);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    fail(r, clone_err, "clone", r->target);
    return;
  }
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0) {
    if (errno != EINTR) {
      if (!r->err) fail(r, errno, "waitpid", r->target);
      return;
    }
  }
  // A child that died without saying why (it cannot, short of a kernel kill).
  if (!r->err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) fail(r, ECHILD, "clone", r->target);
}

/**
 * The inside half in a child that joined the namespace (setns on a pool thread could leave it
 * there), the host half here. The pool thread shares the daemon's namespace: its
 * /proc/self/ns/net is where the peer goes.
 */
static void plug(request *r) {
  plug_args *a = r->plug;
  a->host_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (a->host_ns_fd < 0) {
    fail(r, errno, "open", "/proc/self/ns/net");
    return;
  }
  r->ns_fd = open(r->target, O_RDONLY | O_CLOEXEC);
  if (r->ns_fd < 0) fail(r, errno, "open", r->target);
  else {
    run_in_child(child_plug, r, 0);
    close(r->ns_fd);
  }
  close(a->host_ns_fd);
  if (r->err) return;
  const char *step = "netlink";
  int err = berth_plug_host(a, &step);
  if (err) fail(r, err, step, a->host_name);
}

static void execute(napi_env env, void *data) {
  (void)env;
  request *r = data;
  switch (r->kind) {
    case OP_MOUNT:
      if (r->cwd) run_in_child(child_mount, r, 0);
      else do_mount(r);
      break;
    case OP_UMOUNT:
      if (umount2(r->target, (int)r->flags) != 0) fail(r, errno, "umount2", r->target);
      break;
    case OP_NETNS:
      run_in_child(child_netns, r, CLONE_NEWNET);
      break;
    case OP_PLUG:
      plug(r);
      break;
  }
}

static void free_request(request *r) {
  free(r->source);
  free(r->target);
  free(r->fstype);
  free(r->data);
  free(r->cwd);
  free(r->plug);
  free(r);
}

static napi_value make_error(napi_env env, request *r) {
  const char *code = strerrorname_np(r->err);
  char desc_buf[128];
  const char *desc = strerror_r(r->err, desc_buf, sizeof desc_buf);
  const char *path = r->path ? r->path : "";
  if (!code) code = "EUNKNOWN";
  int n = snprintf(NULL, 0, "%s: %s, %s '%s'", code, desc, r->syscall, path);
  char *msg = malloc((size_t)n + 1);
  napi_value code_v, msg_v, err_v, errno_v, syscall_v, path_v;
  if (msg) snprintf(msg, (size_t)n + 1, "%s: %s, %s '%s'", code, desc, r->syscall, path);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg ? msg : code, NAPI_AUTO_LENGTH, &msg_v);
  free(msg);
  napi_create_error(env, code_v, msg_v, &err_v);
  napi_create_int32(env, -r->err, &errno_v);
  napi_create_string_utf8(env, r->syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_v);
  napi_set_named_property(env, err_v, "errno", errno_v);
  napi_set_named_property(env, err_v, "syscall", syscall_v);
  napi_set_named_property(env, err_v, "path", path_v);
  return err_v;
}

static void complete(napi_env env, napi_status status, void *data) {
  request *r = data;
  if (status != napi_ok && !r->err) fail(r, ECANCELED, "napi_queue_async_work", r->target);
  if (r->err) {
    napi_reject_deferred(env, r->deferred, make_error(env, r));
  } else {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, r->deferred, undef);
  }
  napi_delete_async_work(env, r->work);
  free_request(r);
}

int berth_get_string(napi_env env, napi_value v, int optional, const char *name, char **out) {
  napi_valuetype t;
  *out = NULL;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_null || t == napi_undefined)) return 0;
  if (t != napi_string) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be a string%s", name, optional ? " or null" : "");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  *out = malloc(len + 1);
  if (!*out) {
    napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  if (strlen(*out) != len) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must not contain a NUL character", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return -1;
  }
  return 0;
}

static int get_flags(napi_env env, napi_value v, unsigned long *out) {
  napi_valuetype t;
  double d;
  napi_typeof(env, v, &t);
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0 || d != (double)(unsigned long)d) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: flags must be an unsigned 32-bit integer");
    return -1;
  }
  *out = (unsigned long)d;
  return 0;
}

/** Queues r and returns its promise; frees r and returns NULL (with a JS exception pending) on failure. */
static napi_value queue(napi_env env, request *r, const char *name) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, &r->deferred, &promise) != napi_ok) goto fail;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, NULL, resource_name, execute, complete, r, &r->work) != napi_ok) goto fail;
  if (napi_queue_async_work(env, r->work) != napi_ok) {
    napi_delete_async_work(env, r->work);
    goto fail;
  }
  return promise;
fail:
  free_request(r);
  napi_throw_error(env, NULL, "berth-sys: cannot queue the work");
  return NULL;
}

/**
 * A request for `kind` with the call's arguments in argv (missing ones read as undefined);
 * NULL, with a JS exception pending, when fewer than `required` were passed.
 */
static request *new_request(napi_env env, napi_callback_info info, op_kind kind, size_t required, size_t max, napi_value *argv, const char *usage) {
  size_t argc = max;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < required) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", usage);
    return NULL;
  }
  request *r = calloc(1, sizeof *r);
  if (!r) napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
  else r->kind = kind;
  return r;
}

/** Queues r unless reading its arguments failed (`bad`, a JS exception pending): then frees it. */
static napi_value submit(napi_env env, request *r, int bad, const char *name) {
  if (!bad) return queue(env, r, name);
  free_request(r);
  return NULL;
}

/** mount(source, target, fstype, flags, data, cwd?): mount(2); with cwd, in a child whose cwd it is. */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  request *r = new_request(env, info, OP_MOUNT, 5, 6, argv, "berth-sys: mount(source, target, fstype, flags, data, cwd?)");
  if (!r) return NULL;
  int bad = berth_get_string(env, argv[0], 1, "source", &r->source) || berth_get_string(env, argv[1], 0, "target", &r->target) ||
            berth_get_string(env, argv[2], 1, "fstype", &r->fstype) || get_flags(env, argv[3], &r->flags) ||
            berth_get_string(env, argv[4], 1, "data", &r->data) || berth_get_string(env, argv[5], 1, "cwd", &r->cwd);
  return submit(env, r, bad, "berth-sys:mount");
}

/** umount(target, flags): umount2(2). */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  request *r = new_request(env, info, OP_UMOUNT, 2, 2, argv, "berth-sys: umount(target, flags)");
  if (!r) return NULL;
  int bad = berth_get_string(env, argv[0], 0, "target", &r->target) || get_flags(env, argv[1], &r->flags);
  return submit(env, r, bad, "berth-sys:umount");
}

/** bindNewNetns(target): a new network namespace, bind-mounted onto the existing file `target`. */
static napi_value js_bind_new_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  request *r = new_request(env, info, OP_NETNS, 1, 1, argv, "berth-sys: bindNewNetns(target)");
  if (!r) return NULL;
  return submit(env, r, berth_get_string(env, argv[0], 0, "target", &r->target), "berth-sys:netns");
}

/** A network interface name (at most 15 bytes) into `out`; throws otherwise. */
static int get_ifname(napi_env env, napi_value v, const char *name, char out[16]) {
  char *s;
  if (berth_get_string(env, v, 0, name, &s)) return -1;
  size_t len = strlen(s);
  if (len) memcpy(out, s, len < 16 ? len + 1 : 16);
  free(s);
  if (len == 0 || len > 15) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be an interface name of 1-15 bytes", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return -1;
  }
  return 0;
}

/** A dotted IPv4 address (network order) into `out`; null/undefined when `optional` (*present = 0). */
static int get_ipv4(napi_env env, napi_value v, int optional, const char *name, uint32_t *out, int *present) {
  char *s;
  if (berth_get_string(env, v, optional, name, &s)) return -1;
  *present = s != NULL;
  if (!s) return 0;
  struct in_addr in;
  int ok = inet_pton(AF_INET, s, &in) == 1;
  free(s);
  if (!ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be an IPv4 address", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return -1;
  }
  *out = in.s_addr;
  return 0;
}

static int get_mac(napi_env env, napi_value v, unsigned char out[6]) {
  char *s;
  if (berth_get_string(env, v, 0, "mac", &s)) return -1;
  unsigned int b[6];
  char extra;
  int ok = sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) == 6;
  free(s);
  if (!ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "berth-sys: mac must be six hex bytes, colon-separated");
    return -1;
  }
  for (int i = 0; i < 6; i++) out[i] = (unsigned char)b[i];
  return 0;
}

/**
 * plugVeth(netns, ifName, mac, mtu, hostName, address, prefixLen, gateway, bridge): a veth pair
 * from `bridge` into the namespace file `netns`, addressed, up and routed (berth-netlink.c).
 */
static napi_value js_plug_veth(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  request *r = new_request(env, info, OP_PLUG, 9, 9, argv, "berth-sys: plugVeth(netns, ifName, mac, mtu, hostName, address, prefixLen, gateway, bridge)");
  if (!r) return NULL;
  r->plug = calloc(1, sizeof *r->plug);
  if (!r->plug) {
    free_request(r);
    napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
    return NULL;
  }
  plug_args *a = r->plug;
  unsigned long mtu = 0, prefix = 0;
  int present = 0;
  int bad = berth_get_string(env, argv[0], 0, "netns", &r->target) || get_ifname(env, argv[1], "ifName", a->if_name) || get_mac(env, argv[2], a->mac) ||
            get_flags(env, argv[3], &mtu) || get_ifname(env, argv[4], "hostName", a->host_name) || get_ipv4(env, argv[5], 0, "address", &a->address, &present) ||
            get_flags(env, argv[6], &prefix) || get_ipv4(env, argv[7], 1, "gateway", &a->gateway, &a->has_gateway) || get_ifname(env, argv[8], "bridge", a->bridge);
  if (!bad && prefix > 32) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "berth-sys: prefixLen must be 0-32");
    bad = 1;
  }
  a->mtu = (uint32_t)mtu;
  a->prefix_len = (unsigned char)prefix;
  return submit(env, r, bad, "berth-sys:plugVeth");
}

NAPI_MODULE_INIT() {
  napi_value fn, abi;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &fn);
  napi_set_named_property(env, exports, "mount", fn);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &fn);
  napi_set_named_property(env, exports, "umount", fn);
  napi_create_function(env, "bindNewNetns", NAPI_AUTO_LENGTH, js_bind_new_netns, NULL, &fn);
  napi_set_named_property(env, exports, "bindNewNetns", fn);
  napi_create_function(env, "plugVeth", NAPI_AUTO_LENGTH, js_plug_veth, NULL, &fn);
  napi_set_named_property(env, exports, "plugVeth", fn);
  berth_spawn_init(env, exports);
  napi_create_uint32(env, BERTH_SYS_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

// berth-spawn: starting berthd's short commands (ip, iptables-restore, runc, …) without fork().
//
// Why: node's child_process.spawn() forks the ~70 MB daemon, which blocks the event loop
// 1-4.5 ms per spawn while the kernel copies its page tables; a bridge container's run spawns
// several commands. Here the child is vfork-style, clone(CLONE_VM | CLONE_VFORK): it shares the
// daemon's memory (nothing is copied), and the calling thread (the event loop's) is suspended
// only until the child has called execve(), i.e. tens of microseconds (bench/mount-syscalls.ts
// measures the whole synchronous call). glibc's posix_spawn works the same way, but it cannot
// setns() the child into a network namespace (the `netns` option, which replaces a second
// exec of `nsenter --net=<file>`) nor hand back a pidfd (CLONE_PIDFD).
//
// The child runs on a stack carved out of the suspended caller's stack and, sharing memory, may
// only make async-signal-safe calls (syscall wrappers; no malloc, no locks) until execve:
// - every signal is blocked around clone(), so no handler of the daemon (libuv's writes to its
//   signal pipe) can ever run in the child; the child resets every disposition to SIG_DFL
//   (node ignores SIGPIPE, and an ignored signal would survive execve) and only then empties
//   its mask, as libuv's own uv_spawn does;
// - setsid(): its own session and process group, so a timeout or abort kills the group
//   (process.kill(-pid)) as util/exec.ts's child_process path does (detached: true);
// - setns(fd, CLONE_NEWNET) on a namespace file opened by the parent before the clone;
// - its stdio pipes onto fds 0-2 (or, for spawnDetached, more fds 3..n-1), then
//   close_range(n, ~0U, 0): the child gets exactly the fds it is meant to have, not whatever
//   the daemon has open (listening sockets, other containers' pipes), even an fd some library
//   opened without O_CLOEXEC. Kernels before 5.9 (ENOSYS) fall back on O_CLOEXEC: libuv,
//   node and this addon open every fd with it;
// - chdir(cwd), then execve() along PATH (of the given environment, else the daemon's), as
//   execvp does, with the path built on its own stack. A failure is written into the plan the
//   parent shares (errno and step), and the child _exit()s: the parent throws it synchronously
//   (ENOENT for a missing binary, shaped like node's "spawn <file> ENOENT").
// The addon is linked with -z now: no lazy PLT binding (the dynamic linker) runs in the child.
// The child's exit signal is 0 rather than SIGCHLD: no SIGCHLD wakes libuv's handler for a
// child it does not own, and only a wait with __WALL (ours) sees it.
//
// After the clone, nothing runs on a thread: the parent ends of the pipes and a pidfd
// (CLONE_PIDFD) are watched by uv_poll handles on the event loop itself (napi_get_uv_event_loop),
// so a command occupies no libuv threadpool thread for its lifetime (the pool has 4 threads,
// shared with every fs call of the daemon: 20 parallel `docker run -d` would queue behind them).
// Input is written and output read by non-blocking read/write as the pipes are ready; stdout is
// kept up to a bound (beyond it the group is SIGKILLed and the result says `overflowed`), stderr
// as a tail. When the pidfd is readable the child is a zombie: waitid(P_PIDFD, __WALL) reaps
// it. Reaping our own child is safe beside libuv: libuv 1.46 (node 20) on Linux reaps only the
// pids of its own uv_process_t handles (uv__wait_children: waitpid(process->pid, WNOHANG) for
// each of loop->process_handles), never waitpid(-1), so neither reaps the other's children. The
// promise settles (in a callback scope, so its continuations run at once) when the child is
// reaped and both outputs are at EOF, like child_process's 'close'. A timeout or abort is JS's:
// it kills the group, and the pidfd then reports the exit. Until the reap, the pid cannot be
// reused, so a kill from JS before the promise settles always reaches our child.
//
// spawnDetached (conmon): the same child, with given fds as 0-2, socketpairs as 3..n-1 whose
// other ends go back to JS (wrapped there as net.Socket), and no output collected. It must
// outlive berthd, and stays berthd's child (no double fork: PID 1 on these hosts does not reap
// orphans). Its pidfd is watched by an unref'ed uv_poll (berthd may exit while it runs) and it
// is reaped when it exits, with no thread per child.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include "berth-sys.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/** The child's stack (it needs a PATH_MAX path and a few frames), on the suspended caller's stack. */
#define SPAWN_STACK_BYTES (32 * 1024)
/** One read() of a pipe; a readable pipe is read at most READS_PER_WAKEUP times before the loop moves on. */
#define READ_CHUNK (64 * 1024)
#define READS_PER_WAKEUP 16
/** glibc execvp's search path when the environment has no PATH. */
#define DEFAULT_PATH "/bin:/usr/bin"
/** fds 0-2 and at most this many more for spawnDetached. */
#define MAX_CHILD_FDS 8

extern char **environ;

/** What the child needs, all prepared by the parent: the child never allocates. */
typedef struct {
  const char *file;
  char **argv;
  char **envp;
  const char *path;
  const char *cwd;
  int netns_fd;
  int nfds;
  /** Become the child's fds 0..nfds-1. */
  int fds[MAX_CHILD_FDS];
  /** Set by the child when a step before the program's start failed. */
  volatile int err;
  const char *volatile step;
} plan;

/** argv/env/cwd of a call, in malloc'ed memory, freed once the child has exec'd. */
typedef struct {
  char **argv;
  char **env;
  char *cwd;
  char *netns;
} spawn_args;

static void free_strings(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

static void free_args(spawn_args *a) {
  free_strings(a->argv);
  free_strings(a->env);
  free(a->cwd);
  free(a->netns);
}

// ---------------------------------------------------------------------------------------------
// The child (async-signal-safe calls only)

static int child_fail(plan *p, const char *step) {
  p->err = errno;
  p->step = step;
  _exit(127);
}

static int child_main(void *arg) {
  plan *p = arg;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  // glibc refuses 32 and 33 (its own, EINVAL) and leaves them be; SIGKILL/SIGSTOP cannot change.
  for (int n = 1; n < _NSIG; n++) {
    if (n != SIGKILL && n != SIGSTOP) sigaction(n, &dfl, NULL);
  }
  if (setsid() < 0) return child_fail(p, "setsid");
  if (p->netns_fd >= 0 && setns(p->netns_fd, CLONE_NEWNET) != 0) return child_fail(p, "setns");

  // First move every source fd out of 0..nfds-1 (one could be another's target), then dup2
  // them into place (dup2 clears O_CLOEXEC on the target). The copy is local: the plan's fds
  // are the parent's to close.
  int fds[MAX_CHILD_FDS];
  for (int i = 0; i < p->nfds; i++) {
    fds[i] = p->fds[i];
    if (fds[i] < p->nfds && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, p->nfds)) < 0) return child_fail(p, "fcntl");
  }
  for (int i = 0; i < p->nfds; i++) {
    if (dup2(fds[i], i) < 0) return child_fail(p, "dup2");
  }
  if (close_range((unsigned)p->nfds, ~0U, 0) != 0 && errno != ENOSYS) return child_fail(p, "close_range");
  if (p->cwd && chdir(p->cwd) != 0) return child_fail(p, "chdir");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  if (strchr(p->file, '/')) {
    execve(p->file, p->argv, p->envp);
    return child_fail(p, "execve");
  }
  // execvp's search: the first entry that can be executed; EACCES if one could not, else ENOENT.
  char buf[PATH_MAX];
  size_t flen = strlen(p->file);
  int denied = 0;
  for (const char *dir = p->path;; dir++) {
    const char *end = strchrnul(dir, ':');
    size_t dlen = (size_t)(end - dir);
    if (dlen + flen + 2 <= sizeof buf) {
      memcpy(buf, dir, dlen);
      if (dlen) buf[dlen++] = '/'; // an empty entry is the working directory
      memcpy(buf + dlen, p->file, flen + 1);
      execve(buf, p->argv, p->envp);
      switch (errno) {
        case EACCES:
          denied = 1;
          break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
        case ELOOP:
        case ENAMETOOLONG:
          break;
        default:
          return child_fail(p, "execve");
      }
    }
    if (!*end) break;
    dir = end;
  }
  errno = denied ? EACCES : ENOENT;
  return child_fail(p, "execve");
}

/**
 * Starts the child described by p; returns its pid and its pidfd in *pidfd, or -1 with errno
 * (the clone's, or the child's own in p->err: then it has exited and is reaped here).
 */
static pid_t launch(plan *p, int *pidfd) {
  char stack[SPAWN_STACK_BYTES] __attribute__((aligned(16)));
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  *pidfd = -1;
  pid_t pid = clone(child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD, p, pidfd);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    errno = err;
    return -1;
  }
  if (p->err) {
    // The child has _exit()ed (CLONE_VFORK let us go on only then); reap it.
    siginfo_t si;
    while (waitid(P_PIDFD, (id_t)*pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR) {
    }
    close(*pidfd);
    *pidfd = -1;
    errno = p->err;
    return -1;
  }
  return pid;
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** An array of strings, NULL-terminated; NULL for null/undefined when optional. -1 with a JS exception pending. */
static int get_strings(napi_env env, napi_value v, int optional, const char *name, char ***out) {
  napi_valuetype t;
  bool is_array = false;
  *out = NULL;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_null || t == napi_undefined)) return 0;
  napi_is_array(env, v, &is_array);
  uint32_t n = 0;
  if (is_array) napi_get_array_length(env, v, &n);
  if (!is_array || (!optional && n == 0)) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be %sarray of strings", name, optional ? "null or an " : "a non-empty ");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  char **strs = calloc((size_t)n + 1, sizeof *strs);
  if (!strs) {
    napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
    return -1;
  }
  *out = strs;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    if (berth_get_string(env, e, 0, name, &strs[i]) != 0) return -1;
  }
  return 0;
}

static int get_size(napi_env env, napi_value v, const char *name, size_t *out) {
  napi_valuetype t;
  double d;
  napi_typeof(env, v, &t);
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 1e15) || d != (double)(size_t)d) {
    char msg[96];
    snprintf(msg, sizeof msg, "berth-sys: %s must be a non-negative integer", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return -1;
  }
  *out = (size_t)d;
  return 0;
}

/** Reads argv, env, cwd (arguments 0-2) and, with_netns, netns (argument 3); -1 with a JS exception pending. */
static int get_spawn_args(napi_env env, napi_value *argv, int with_netns, spawn_args *a) {
  memset(a, 0, sizeof *a);
  return get_strings(env, argv[0], 0, "argv", &a->argv) || get_strings(env, argv[1], 1, "env", &a->env) ||
         berth_get_string(env, argv[2], 1, "cwd", &a->cwd) || (with_netns && berth_get_string(env, argv[3], 1, "netns", &a->netns));
}

static napi_value get_args(napi_env env, napi_callback_info info, size_t required, size_t max, napi_value *argv, const char *usage) {
  size_t argc = max;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < required) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", usage);
    return NULL;
  }
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (size_t i = argc; i < max; i++) argv[i] = undef;
  return undef;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Throws an Error shaped like node's: `code`, negative `errno`, `syscall`, `path`. A failed
 * execve reads as node's spawn error ("spawn ip ENOENT", syscall "spawn ip", path "ip"); other
 * steps name themselves ("setns EINVAL", path the namespace file).
 */
static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  char buf[PATH_MAX + 96];
  if (!code) code = "EUNKNOWN";
  snprintf(buf, sizeof buf, "%s %s", syscall, code);
  napi_value code_v, msg_v, err_v, errno_v, syscall_v, path_v;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &err_v);
  napi_create_int32(env, -err, &errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, err_v, "errno", errno_v);
  napi_set_named_property(env, err_v, "syscall", syscall_v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_v);
    napi_set_named_property(env, err_v, "path", path_v);
  }
  napi_throw(env, err_v);
}

static void throw_step_error(napi_env env, int err, const char *step, const spawn_args *a) {
  char syscall[PATH_MAX + 8];
  if (strcmp(step, "execve") == 0) {
    snprintf(syscall, sizeof syscall, "spawn %s", a->argv[0]);
    throw_errno(env, err, syscall, a->argv[0]);
  } else if (strcmp(step, "setns") == 0 || strcmp(step, "open") == 0) {
    throw_errno(env, err, step, a->netns);
  } else if (strcmp(step, "chdir") == 0) {
    throw_errno(env, err, step, a->cwd);
  } else {
    throw_errno(env, err, step, NULL);
  }
}

// ---------------------------------------------------------------------------------------------
// Starting a child

/** PATH's value in env (NULL: the daemon's environment), or glibc execvp's default. */
static const char *search_path(char **env) {
  const char *path = NULL;
  if (!env) path = getenv("PATH");
  else
    for (char **e = env; *e; e++)
      if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  return path ? path : DEFAULT_PATH;
}

/**
 * Starts argv with `child_fds` as its fds 0..n-1 (closing none of them). Returns the pid and
 * *pidfd; throws (a JS exception pending) and returns -1 on failure.
 */
static pid_t start_child(napi_env env, const spawn_args *a, const int *child_fds, int n, int *pidfd) {
  plan p;
  memset(&p, 0, sizeof p);
  p.file = a->argv[0];
  p.argv = a->argv;
  p.envp = a->env ? a->env : environ;
  p.path = search_path(a->env);
  p.cwd = a->cwd;
  p.nfds = n;
  memcpy(p.fds, child_fds, (size_t)n * sizeof *child_fds);
  p.netns_fd = -1;
  if (a->netns && (p.netns_fd = open(a->netns, O_RDONLY | O_CLOEXEC)) < 0) {
    throw_step_error(env, errno, "open", a);
    return -1;
  }
  pid_t pid = launch(&p, pidfd);
  int err = errno;
  if (p.netns_fd >= 0) close(p.netns_fd);
  if (pid < 0) throw_step_error(env, err, p.err ? p.step : "clone", a);
  return pid;
}

static void close_fds(int *fds, int n) {
  for (int i = 0; i < n; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// spawn(): a short command, its output collected on the event loop

typedef struct spawn_req spawn_req;

/** An fd of the parent's and, while it is watched, its poll handle. */
typedef struct {
  uv_poll_t poll;
  spawn_req *req;
  int fd;
  int polled;
} watched;

struct spawn_req {
  napi_env env;
  napi_deferred deferred;
  napi_async_context async_context;
  pid_t pid;
  watched in, out, err, exit;
  /** uv handles not yet closed: the request is freed when it is settled and this is 0. */
  int handles;
  int settled;
  char *input;
  size_t input_len, input_off;
  char *out_buf;
  size_t out_len, out_cap, out_max;
  int overflowed;
  char *err_buf;
  size_t err_len, err_max;
  int exited, exit_code, term_signal;
};

static void free_spawn_req(spawn_req *r) {
  free(r->input);
  free(r->out_buf);
  free(r->err_buf);
  free(r);
}

static void on_handle_closed(uv_handle_t *h) {
  spawn_req *r = ((watched *)h->data)->req;
  if (--r->handles == 0 && r->settled) free_spawn_req(r);
}

/** Stops watching w and closes its fd. */
static void unwatch(watched *w) {
  if (w->fd < 0) return;
  if (w->polled) {
    // uv_poll_stop removes the fd from epoll at once (uv__platform_invalidate_fd): closing it next is safe.
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_handle_closed);
    w->polled = 0;
  }
  close(w->fd);
  w->fd = -1;
}

static int watch(spawn_req *r, watched *w, int events, uv_poll_cb cb) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(r->env, &loop) != napi_ok) return UV_EINVAL;
  int rc = uv_poll_init(loop, &w->poll, w->fd);
  if (rc != 0) return rc;
  w->poll.data = w;
  w->polled = 1;
  r->handles++;
  return uv_poll_start(&w->poll, events, cb);
}

static napi_value result_value(spawn_req *r) {
  napi_env env = r->env;
  napi_value res, v;
  napi_create_object(env, &res);
  napi_create_buffer_copy(env, r->out_len, r->out_len ? r->out_buf : "", NULL, &v);
  napi_set_named_property(env, res, "stdout", v);
  napi_create_buffer_copy(env, r->err_len, r->err_len ? r->err_buf : "", NULL, &v);
  napi_set_named_property(env, res, "stderr", v);
  if (r->exit_code >= 0) napi_create_int32(env, r->exit_code, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, res, "exitCode", v);
  if (r->term_signal > 0) napi_create_int32(env, r->term_signal, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, res, "signal", v);
  napi_get_boolean(env, r->overflowed, &v);
  napi_set_named_property(env, res, "overflowed", v);
  return res;
}

/** Resolves the promise once the child is reaped and both outputs are at EOF. */
static void maybe_settle(spawn_req *r) {
  if (r->settled || !r->exited || r->out.fd >= 0 || r->err.fd >= 0) return;
  r->settled = 1;
  unwatch(&r->in); // a child that exited without reading all of its input
  napi_env env = r->env;
  napi_handle_scope hs;
  napi_callback_scope cs;
  napi_value resource;
  napi_open_handle_scope(env, &hs);
  napi_create_object(env, &resource);
  // A callback scope, as node's own callbacks have: the promise's continuations run when it closes.
  napi_open_callback_scope(env, resource, r->async_context, &cs);
  napi_resolve_deferred(env, r->deferred, result_value(r));
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
  napi_async_destroy(env, r->async_context);
  if (r->handles == 0) free_spawn_req(r);
}

static void keep_stdout(spawn_req *r, const char *data, size_t n) {
  if (r->overflowed) return;
  if (r->out_len + n > r->out_max) {
    // Bounded like a maxBuffer: the command is stopped (its group, as a timeout would) and the
    // rest of its output is read and dropped until EOF.
    r->overflowed = 1;
    kill(-r->pid, SIGKILL);
    n = r->out_max - r->out_len;
    if (n == 0) return;
  }
  if (r->out_len + n > r->out_cap) {
    size_t cap = r->out_cap ? r->out_cap : READ_CHUNK;
    while (cap < r->out_len + n) cap *= 2;
    if (cap > r->out_max) cap = r->out_max;
    char *b = realloc(r->out_buf, cap);
    if (!b) {
      r->overflowed = 1;
      kill(-r->pid, SIGKILL);
      return;
    }
    r->out_buf = b;
    r->out_cap = cap;
  }
  memcpy(r->out_buf + r->out_len, data, n);
  r->out_len += n;
}

/** Keeps the last err_max bytes of stderr. */
static void keep_stderr(spawn_req *r, const char *data, size_t n) {
  size_t max = r->err_max;
  if (n >= max) {
    memcpy(r->err_buf, data + n - max, max);
    r->err_len = max;
    return;
  }
  if (r->err_len + n > max) {
    size_t drop = r->err_len + n - max;
    memmove(r->err_buf, r->err_buf + drop, r->err_len - drop);
    r->err_len -= drop;
  }
  memcpy(r->err_buf + r->err_len, data, n);
  r->err_len += n;
}

static void on_output(uv_poll_t *h, int status, int events) {
  (void)events;
  watched *w = h->data;
  spawn_req *r = w->req;
  char chunk[READ_CHUNK];
  for (int i = 0; i < READS_PER_WAKEUP; i++) {
    ssize_t n = status < 0 ? -1 : read(w->fd, chunk, sizeof chunk);
    if (n > 0) {
      if (w == &r->out) keep_stdout(r, chunk, (size_t)n);
      else if (r->err_max) keep_stderr(r, chunk, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EOF, or an error reading a pipe (which ends it as well).
    unwatch(w);
    maybe_settle(r);
    return;
  }
}

/** Writes as much input as the pipe takes; closes it when all is written or the child will read no more. */
static void write_input(spawn_req *r) {
  while (r->input_off < r->input_len) {
    ssize_t n = write(r->in.fd, r->input + r->input_off, r->input_len - r->input_off);
    if (n > 0) {
      r->input_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    break; // EPIPE: the child closed its stdin; its exit status tells the story
  }
  unwatch(&r->in);
}

static void on_input(uv_poll_t *h, int status, int events) {
  (void)events;
  watched *w = h->data;
  if (status < 0) unwatch(w);
  else write_input(w->req);
}

static void on_child_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  watched *w = h->data;
  spawn_req *r = w->req;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  while ((rc = waitid(P_PIDFD, (id_t)w->fd, &si, WEXITED | WNOHANG | __WALL)) < 0 && errno == EINTR) {
  }
  // Not yet a zombie (WNOHANG answers si_pid 0, a non-blocking pidfd EAGAIN): wait for the next wake-up.
  if ((rc == 0 && si.si_pid == 0) || (rc < 0 && errno == EAGAIN)) return;
  if (rc == 0 && si.si_code == CLD_EXITED) {
    r->exit_code = si.si_status;
  } else if (rc == 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) {
    r->term_signal = si.si_status;
  }
  // else ECHILD: reaped by someone else, which nothing in node does (see the top comment); no status.
  r->exited = 1;
  unwatch(w);
  maybe_settle(r);
}

/** A child that cannot be watched (libuv out of memory): killed and reaped here, its request dropped. */
static void abandon(spawn_req *r) {
  kill(-r->pid, SIGKILL);
  siginfo_t si;
  fcntl(r->exit.fd, F_SETFL, 0); // blocking again, if uv_poll_init made it non-blocking
  while (waitid(P_PIDFD, (id_t)r->exit.fd, &si, WEXITED | __WALL) < 0 && errno == EINTR) {
  }
  r->settled = 1;
  unwatch(&r->in);
  unwatch(&r->out);
  unwatch(&r->err);
  unwatch(&r->exit);
  if (r->handles == 0) free_spawn_req(r);
}

/**
 * spawn(argv, env, cwd, netns, input, maxStdout, stderrTail) → { pid, done }: starts argv[0]
 * (PATH lookup) with pipes as its stdio; `done` resolves with { stdout, stderr (the last
 * stderrTail bytes), exitCode, signal (a number), overflowed } once it has exited and its
 * outputs are closed. Throws (synchronously) when it cannot start.
 */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, 7, argv, "berth-sys: spawn(argv, env, cwd, netns, input, maxStdout, stderrTail)")) return NULL;
  spawn_args a;
  size_t out_max = 0, err_max = 0;
  spawn_req *r = NULL;
  int pipes[6] = {-1, -1, -1, -1, -1, -1};
  napi_value ret = NULL;
  if (get_spawn_args(env, argv, 1, &a) || get_size(env, argv[5], "maxStdout", &out_max) || get_size(env, argv[6], "stderrTail", &err_max)) goto out;

  r = calloc(1, sizeof *r);
  if (!r || (err_max && !(r->err_buf = malloc(err_max)))) {
    napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
    goto out;
  }
  r->env = env;
  r->out_max = out_max;
  r->err_max = err_max;
  r->exit_code = -1;
  r->in.req = r->out.req = r->err.req = r->exit.req = r;
  r->in.fd = r->out.fd = r->err.fd = r->exit.fd = -1;
  napi_valuetype t;
  napi_typeof(env, argv[4], &t);
  if (t != napi_null && t != napi_undefined) {
    bool is_typed = false;
    napi_typedarray_type tt;
    void *data = NULL;
    napi_is_typedarray(env, argv[4], &is_typed);
    if (is_typed) napi_get_typedarray_info(env, argv[4], &tt, &r->input_len, &data, NULL, NULL);
    if (!is_typed || tt != napi_uint8_array) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: input must be null or a Uint8Array");
      goto out;
    }
    // A copy: the caller's buffer may be reused or detached while the child reads.
    if (r->input_len && !(r->input = malloc(r->input_len))) {
      napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
      goto out;
    }
    if (r->input_len) memcpy(r->input, data, r->input_len);
  }

  // pipes: [0] stdin read (child), [1] stdin write; [2] stdout read, [3] write (child); [4],[5] stderr.
  for (int i = 0; i < 3; i++) {
    if (pipe2(pipes + 2 * i, O_CLOEXEC) != 0) {
      throw_errno(env, errno, "pipe2", NULL);
      goto out;
    }
  }
  int child_fds[3] = {pipes[0], pipes[3], pipes[5]};
  int pidfd;
  pid_t pid = start_child(env, &a, child_fds, 3, &pidfd);
  close(pipes[0]);
  close(pipes[3]);
  close(pipes[5]);
  pipes[0] = pipes[3] = pipes[5] = -1;
  if (pid < 0) goto out;

  r->pid = pid;
  r->in.fd = pipes[1];
  r->out.fd = pipes[2];
  r->err.fd = pipes[4];
  r->exit.fd = pidfd;
  pipes[1] = pipes[2] = pipes[4] = -1;
  int rc = watch(r, &r->out, UV_READABLE, on_output);
  if (rc == 0) rc = watch(r, &r->err, UV_READABLE, on_output);
  if (rc == 0) rc = watch(r, &r->exit, UV_READABLE, on_child_exit);
  if (rc == 0 && r->input_len) {
    // O_NONBLOCK on the parent's end only (its own open file description): the child reads a blocking pipe.
    fcntl(r->in.fd, F_SETFL, O_NONBLOCK);
    write_input(r);
    if (r->in.fd >= 0) rc = watch(r, &r->in, UV_WRITABLE, on_input);
  } else if (rc == 0) {
    unwatch(&r->in);
  }
  if (rc != 0) {
    abandon(r);
    r = NULL;
    napi_throw_error(env, uv_err_name(rc), "berth-sys: cannot watch a child's pipes");
    goto out;
  }
  napi_value promise, name, resource, pid_v;
  napi_create_promise(env, &r->deferred, &promise);
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "berth-sys:spawn", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &r->async_context);
  napi_create_object(env, &ret);
  napi_create_int32(env, pid, &pid_v);
  napi_set_named_property(env, ret, "pid", pid_v);
  napi_set_named_property(env, ret, "done", promise);
  r = NULL; // owned by its handles and its settlement from here on
out:
  close_fds(pipes, 6);
  if (r) free_spawn_req(r);
  free_args(&a);
  return ret;
}

// ---------------------------------------------------------------------------------------------
// spawnDetached(): a long-lived child (conmon) that berthd reaps while it runs

/** A detached child's pidfd, watched until the child exits; the watch does not keep the loop alive. */
typedef struct {
  uv_poll_t poll;
  int fd;
} reaper;

static void on_reaper_closed(uv_handle_t *h) {
  free(h->data);
}

static void on_detached_exit(uv_poll_t *h, int status, int events) {
  (void)events;
  reaper *rp = h->data;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  while ((rc = waitid(P_PIDFD, (id_t)rp->fd, &si, WEXITED | WNOHANG | __WALL)) < 0 && errno == EINTR) {
  }
  // Not yet exited: wait on. (A poll error would wake us for ever: give the child up to its
  // new parent then, as if berthd had exited.)
  if (status == 0 && ((rc == 0 && si.si_pid == 0) || (rc < 0 && errno == EAGAIN))) return;
  uv_poll_stop(h);
  close(rp->fd);
  uv_close((uv_handle_t *)h, on_reaper_closed);
}

/**
 * spawnDetached(argv, env, cwd, stdio, sockets) → { pid, fds }: starts argv[0] in its own
 * session with stdio[i] (an fd, or -1 for /dev/null) as its fd i and `sockets` socketpairs as
 * its fds 3..; `fds` are the other ends (the caller owns and closes them). berthd reaps the
 * child when it exits; nothing of it keeps berthd's event loop alive.
 */
static napi_value js_spawn_detached(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, 5, argv, "berth-sys: spawnDetached(argv, env, cwd, stdio, sockets)")) return NULL;
  spawn_args a;
  size_t sockets = 0;
  int child_fds[MAX_CHILD_FDS], parent_fds[MAX_CHILD_FDS - 3];
  int devnull = -1, n = 0;
  napi_value ret = NULL;
  for (int i = 0; i < MAX_CHILD_FDS - 3; i++) parent_fds[i] = -1;
  if (get_spawn_args(env, argv, 0, &a)) goto out;
  bool is_array = false;
  uint32_t len = 0;
  napi_is_array(env, argv[3], &is_array);
  if (is_array) napi_get_array_length(env, argv[3], &len);
  if (!is_array || len != 3) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: stdio must be an array of 3 fds (-1: /dev/null)");
    goto out;
  }
  if (get_size(env, argv[4], "sockets", &sockets)) goto out;
  if (sockets > MAX_CHILD_FDS - 3) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "berth-sys: too many sockets");
    goto out;
  }
  for (uint32_t i = 0; i < 3; i++) {
    napi_value e;
    int32_t fd;
    napi_get_element(env, argv[3], i, &e);
    if (napi_get_value_int32(env, e, &fd) != napi_ok || fd < -1) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: stdio must be an array of 3 fds (-1: /dev/null)");
      goto out;
    }
    if (fd < 0 && devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
      throw_errno(env, errno, "open", "/dev/null");
      goto out;
    }
    child_fds[n++] = fd < 0 ? devnull : fd;
  }
  for (size_t i = 0; i < sockets; i++) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw_errno(env, errno, "socketpair", NULL);
      goto out;
    }
    parent_fds[i] = pair[0];
    child_fds[n++] = pair[1];
  }
  int pidfd;
  pid_t pid = start_child(env, &a, child_fds, n, &pidfd);
  if (pid < 0) goto out;

  reaper *rp = calloc(1, sizeof *rp);
  uv_loop_t *loop;
  int rc = rp ? 0 : UV_ENOMEM;
  if (rc == 0 && napi_get_uv_event_loop(env, &loop) != napi_ok) rc = UV_EINVAL;
  if (rc == 0) rc = uv_poll_init(loop, &rp->poll, pidfd);
  if (rc == 0) {
    rp->fd = pidfd;
    rp->poll.data = rp;
    uv_poll_start(&rp->poll, UV_READABLE, on_detached_exit);
    uv_unref((uv_handle_t *)&rp->poll);
  } else {
    // Cannot watch it: it runs on, and becomes a zombie when it exits, until berthd exits.
    free(rp);
    close(pidfd);
  }
  napi_value fds_v, v;
  napi_create_object(env, &ret);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, ret, "pid", v);
  napi_create_array_with_length(env, sockets, &fds_v);
  for (size_t i = 0; i < sockets; i++) {
    napi_create_int32(env, parent_fds[i], &v);
    napi_set_element(env, fds_v, (uint32_t)i, v);
    parent_fds[i] = -1; // the caller's now
  }
  napi_set_named_property(env, ret, "fds", fds_v);
out:
  // The child's ends (its own copies are in the child now), and ours when the start failed.
  for (int i = 3; i < n; i++) close(child_fds[i]);
  close_fds(parent_fds, MAX_CHILD_FDS - 3);
  if (devnull >= 0) close(devnull);
  free_args(&a);
  return ret;
}

void berth_spawn_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, js_spawn_detached, NULL, &fn);
  napi_set_named_property(env, exports, "spawnDetached", fn);
}

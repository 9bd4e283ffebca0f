// berth-spawn: starting berthd's short commands (ip, iptables-restore, runc, …) without fork().
//
// Why: node's child_process.spawn() forks the ~70 MB daemon, which blocks the event loop
// 1-4.5 ms per spawn while the kernel copies its page tables; a bridge container's run spawns
// several commands. Here the child is vfork-style, clone(CLONE_VM | CLONE_VFORK): it shares the
// daemon's memory (nothing is copied), and the calling thread is suspended only until the child
// has called execve(): the event loop's for spawn(), a pool thread's for spawnDetached() (conmon,
// on every container start), since with both CPUs busy that wait took a median 4.1 ms (the new
// child waits for a turn on a busy CPU). Measured (bench/mount-syscalls.ts, a node of
// ~140 MB RSS): the whole synchronous spawn() call takes ~0.14 ms; `run('true')` keeps the
// event loop busy ~0.25 ms in all, against ~3.2-4 ms through child_process. glibc's
// posix_spawn works the same way, but it cannot setns() the child into a network namespace
// (the `netns` option, which replaces a second exec of `nsenter --net=<file>`) nor hand back a
// pidfd (CLONE_PIDFD).
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
// berth-spawn-watch.c watches the children it starts (their pipes and pidfds) on the event loop.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "berth-spawn.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/** The child's stack (it needs a PATH_MAX path and a few frames), on the suspended caller's stack. */
#define SPAWN_STACK_BYTES (32 * 1024)
/** glibc execvp's search path when the environment has no PATH. */
#define DEFAULT_PATH "/bin:/usr/bin"

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

static void free_strings(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

void free_args(spawn_args *a) {
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
  // Unlike execvp, a file without a #! line (ENOEXEC) is an error, not run by /bin/sh.
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

int get_size(napi_env env, napi_value v, const char *name, size_t *out) {
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

int get_spawn_args(napi_env env, napi_value *argv, int with_netns, spawn_args *a) {
  memset(a, 0, sizeof *a);
  return get_strings(env, argv[0], 0, "argv", &a->argv) || get_strings(env, argv[1], 1, "env", &a->env) ||
         berth_get_string(env, argv[2], 1, "cwd", &a->cwd) || (with_netns && berth_get_string(env, argv[3], 1, "netns", &a->netns));
}

napi_value get_args(napi_env env, napi_callback_info info, size_t required, size_t max, napi_value *argv, const char *usage) {
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
void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
}

napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
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
  return err_v;
}

napi_value step_error(napi_env env, int err, const char *step, const spawn_args *a) {
  char syscall[PATH_MAX + 8];
  if (strcmp(step, "execve") == 0) {
    snprintf(syscall, sizeof syscall, "spawn %s", a->argv[0]);
    return errno_error(env, err, syscall, a->argv[0]);
  }
  if (strcmp(step, "setns") == 0 || strcmp(step, "open") == 0) return errno_error(env, err, step, a->netns);
  if (strcmp(step, "chdir") == 0) return errno_error(env, err, step, a->cwd);
  return errno_error(env, err, step, NULL);
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

pid_t start_child(napi_env env, const spawn_args *a, const int *child_fds, int n, int *pidfd) {
  int err;
  const char *step;
  pid_t pid = launch_child(a, child_fds, n, pidfd, &err, &step);
  if (pid < 0) napi_throw(env, step_error(env, err, step, a));
  return pid;
}

pid_t launch_child(const spawn_args *a, const int *child_fds, int n, int *pidfd, int *err_out, const char **step_out) {
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
    *err_out = errno;
    *step_out = "open";
    return -1;
  }
  pid_t pid = launch(&p, pidfd);
  int err = errno;
  if (p.netns_fd >= 0) close(p.netns_fd);
  if (pid < 0) {
    *err_out = err;
    *step_out = p.err ? p.step : "clone";
  }
  return pid;
}

void close_fds(int *fds, int n) {
  for (int i = 0; i < n; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

// berth-spawn-watch: the children berth-spawn.c starts, watched on the event loop.
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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include "berth-spawn.h"

/** One read() of a pipe; a readable pipe is read at most READS_PER_WAKEUP times before the loop moves on. */
#define READ_CHUNK (64 * 1024)
#define READS_PER_WAKEUP 16

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
  if (status < 0) {
    // A poll error on a pipe: it ends like EOF.
    unwatch(w);
    maybe_settle(r);
    return;
  }
  for (int i = 0; i < READS_PER_WAKEUP; i++) {
    ssize_t n = read(w->fd, chunk, sizeof chunk);
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

/** A spawnDetached call between its arguments (event loop) and its clone (a pool thread). */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  spawn_args a;
  int child_fds[MAX_CHILD_FDS];
  int n;
  int parent_fds[MAX_CHILD_FDS - 3];
  size_t sockets;
  int devnull;
  /* Set on the pool thread. */
  pid_t pid;
  int pidfd;
  int err;
  const char *step;
} detached_req;

static void free_detached(detached_req *r) {
  // The child's ends (its own copies are in the child now), and ours when the start failed.
  for (int i = 3; i < r->n; i++) close(r->child_fds[i]);
  close_fds(r->parent_fds, MAX_CHILD_FDS - 3);
  if (r->devnull >= 0) close(r->devnull);
  free_args(&r->a);
  free(r);
}

static void detached_execute(napi_env env, void *data) {
  (void)env;
  detached_req *r = data;
  r->pid = launch_child(&r->a, r->child_fds, r->n, &r->pidfd, &r->err, &r->step);
}

/** Watches the child's pidfd on the loop, to reap it when it exits. */
static void watch_detached(napi_env env, int pidfd) {
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
}

static void detached_complete(napi_env env, napi_status status, void *data) {
  detached_req *r = data;
  if (status != napi_ok) {
    napi_reject_deferred(env, r->deferred, errno_error(env, ECANCELED, "napi_queue_async_work", NULL));
  } else if (r->pid < 0) {
    napi_reject_deferred(env, r->deferred, step_error(env, r->err, r->step, &r->a));
  } else {
    watch_detached(env, r->pidfd);
    napi_value ret, fds_v, v;
    napi_create_object(env, &ret);
    napi_create_int32(env, r->pid, &v);
    napi_set_named_property(env, ret, "pid", v);
    napi_create_array_with_length(env, r->sockets, &fds_v);
    for (size_t i = 0; i < r->sockets; i++) {
      napi_create_int32(env, r->parent_fds[i], &v);
      napi_set_element(env, fds_v, (uint32_t)i, v);
      r->parent_fds[i] = -1; // the caller's now
    }
    napi_set_named_property(env, ret, "fds", fds_v);
    napi_resolve_deferred(env, r->deferred, ret);
  }
  napi_delete_async_work(env, r->work);
  free_detached(r);
}

/**
 * spawnDetached(argv, env, cwd, stdio, sockets) → Promise<{ pid, fds }>: starts argv[0] in its
 * own session with stdio[i] (an fd, or -1 for /dev/null) as its fd i and `sockets` socketpairs
 * as its fds 3..; `fds` are the other ends (the caller owns and closes them). berthd reaps the
 * child when it exits; nothing of it keeps berthd's event loop alive. The clone runs on a pool
 * thread: a vfork-style clone suspends its caller until the child's execve, and with both CPUs
 * busy that took a median 4.1 ms (bench: the synchronous spawn() below) of the event loop's
 * time. The stdio fds must stay open until the promise settles. Bad arguments throw at once.
 */
static napi_value js_spawn_detached(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, 5, argv, "berth-sys: spawnDetached(argv, env, cwd, stdio, sockets)")) return NULL;
  detached_req *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, "ENOMEM", "berth-sys: out of memory");
    return NULL;
  }
  r->devnull = -1;
  for (int i = 0; i < MAX_CHILD_FDS - 3; i++) r->parent_fds[i] = -1;
  napi_value promise = NULL, resource_name;
  if (get_spawn_args(env, argv, 0, &r->a)) goto fail;
  bool is_array = false;
  uint32_t len = 0;
  napi_is_array(env, argv[3], &is_array);
  if (is_array) napi_get_array_length(env, argv[3], &len);
  if (!is_array || len != 3) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: stdio must be an array of 3 fds (-1: /dev/null)");
    goto fail;
  }
  if (get_size(env, argv[4], "sockets", &r->sockets)) goto fail;
  if (r->sockets > MAX_CHILD_FDS - 3) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "berth-sys: too many sockets");
    goto fail;
  }
  for (uint32_t i = 0; i < 3; i++) {
    napi_value e;
    int32_t fd;
    napi_get_element(env, argv[3], i, &e);
    if (napi_get_value_int32(env, e, &fd) != napi_ok || fd < -1) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "berth-sys: stdio must be an array of 3 fds (-1: /dev/null)");
      goto fail;
    }
    if (fd < 0 && r->devnull < 0 && (r->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
      throw_errno(env, errno, "open", "/dev/null");
      goto fail;
    }
    r->child_fds[r->n++] = fd < 0 ? r->devnull : fd;
  }
  for (size_t i = 0; i < r->sockets; i++) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw_errno(env, errno, "socketpair", NULL);
      goto fail;
    }
    r->parent_fds[i] = pair[0];
    r->child_fds[r->n++] = pair[1];
  }
  if (napi_create_promise(env, &r->deferred, &promise) != napi_ok) goto fail_queue;
  napi_create_string_utf8(env, "berth-sys:spawnDetached", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, NULL, resource_name, detached_execute, detached_complete, r, &r->work) != napi_ok) goto fail_queue;
  if (napi_queue_async_work(env, r->work) != napi_ok) {
    napi_delete_async_work(env, r->work);
    goto fail_queue;
  }
  return promise;
fail_queue:
  napi_throw_error(env, NULL, "berth-sys: cannot queue the work");
fail:
  free_detached(r);
  return NULL;
}

void berth_spawn_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, js_spawn_detached, NULL, &fn);
  napi_set_named_property(env, exports, "spawnDetached", fn);
}

// What berth-spawn.c (the vfork-style child and its start) and berth-spawn-watch.c (spawn()
// and spawnDetached(): the children watched on the event loop) share.
#ifndef BERTH_SPAWN_H
#define BERTH_SPAWN_H
#include "berth-sys.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/** fds 0-2 and at most this many more for spawnDetached. */
#define MAX_CHILD_FDS 8

#define BERTH_HIDDEN __attribute__((visibility("hidden")))

/** argv/env/cwd/netns of a call, in malloc'ed memory, freed once the child has exec'd. */
typedef struct {
  char **argv;
  char **env;
  char *cwd;
  char *netns;
} spawn_args;

BERTH_HIDDEN void free_args(spawn_args *a);

/** Fills argv (missing arguments read as undefined); NULL, with a JS exception pending, when fewer than `required` were passed. */
BERTH_HIDDEN napi_value get_args(napi_env env, napi_callback_info info, size_t required, size_t max, napi_value *argv, const char *usage);

/** Reads argv, env, cwd (arguments 0-2) and, with_netns, netns (argument 3); -1 with a JS exception pending. */
BERTH_HIDDEN int get_spawn_args(napi_env env, napi_value *argv, int with_netns, spawn_args *a);

/** A non-negative integer argument; -1 with a JS exception pending. */
BERTH_HIDDEN int get_size(napi_env env, napi_value v, const char *name, size_t *out);

/** Throws an Error shaped like node's: `code`, negative `errno`, `syscall`, `path` (when not NULL). */
BERTH_HIDDEN void throw_errno(napi_env env, int err, const char *syscall, const char *path);

/**
 * Starts argv with `child_fds` as its fds 0..n-1 (closing none of them). Returns the pid and
 * *pidfd; throws (a JS exception pending) and returns -1 on failure.
 */
BERTH_HIDDEN pid_t start_child(napi_env env, const spawn_args *a, const int *child_fds, int n, int *pidfd);

/** start_child without JS: callable on a pool thread; on failure -1, *err and the failed *step. */
BERTH_HIDDEN pid_t launch_child(const spawn_args *a, const int *child_fds, int n, int *pidfd, int *err, const char **step);

/** The Error start_child throws for a failed `step` (node's shape, see throw_errno). */
BERTH_HIDDEN napi_value step_error(napi_env env, int err, const char *step, const spawn_args *a);

/** throw_errno's Error, not thrown. */
BERTH_HIDDEN napi_value errno_error(napi_env env, int err, const char *syscall, const char *path);

/** Closes the fds that are open (>= 0) and marks them closed. */
BERTH_HIDDEN void close_fds(int *fds, int n);

#endif

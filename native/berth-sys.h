// What berth-sys.c (mounts, the module's init) and berth-spawn.c (fork-free spawns) share.
#ifndef BERTH_SYS_H
#define BERTH_SYS_H
#define NAPI_VERSION 8
#include <node_api.h>

/** Bumped when the JS-visible interface changes; the loader (src/util/native-sys.ts) refuses any other. */
#define BERTH_SYS_ABI 4

/** A string argument (NULL for null/undefined when optional); throws a TypeError and returns -1 otherwise. */
__attribute__((visibility("hidden"))) int berth_get_string(napi_env env, napi_value v, int optional, const char *name, char **out);

/** Adds spawn() and spawnDetached() to the module's exports. */
__attribute__((visibility("hidden"))) void berth_spawn_init(napi_env env, napi_value exports);

#endif

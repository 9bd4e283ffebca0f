// What berth-sys.c's plugVeth passes to berth-netlink.c.
#ifndef BERTH_NETLINK_H
#define BERTH_NETLINK_H
#include <stdint.h>

typedef struct {
  /** The container side, created in the namespace: name, MAC, IPv4 (network order), prefix, gateway. */
  char if_name[16];
  unsigned char mac[6];
  uint32_t mtu; /* 0: the kernel's default */
  uint32_t address;
  unsigned char prefix_len;
  int has_gateway;
  uint32_t gateway;
  /** The host side: its name, berthd's namespace (an fd the inside half moves it to), and the bridge it joins. */
  char host_name[16];
  int host_ns_fd;
  char bridge[16];
} plug_args;

/** In the container's namespace: the pair, lo, address, link up, default route. 0 or an errno; *step names what failed. */
__attribute__((visibility("hidden"))) int berth_plug_inside(const plug_args *a, const char **step);

/** In berthd's namespace: the host end into the bridge, up. */
__attribute__((visibility("hidden"))) int berth_plug_host(const plug_args *a, const char **step);

#endif

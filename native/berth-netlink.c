// A bridge endpoint's plumbing over rtnetlink, for berth-sys's plugVeth(): what
// src/network/bridge-driver.ts otherwise has `ip -batch` do in two runs (one inside the
// container's namespace, one in berthd's). Each run of ip costs ~1 ms of CPU to start (ten
// shared libraries) and a vfork stall of the event loop, on every bridge container's start.
//
// Inside the namespace (a vfork-style child that joined it: berth-sys.c run_in_child):
//   the veth pair is created there, its peer named and moved into berthd's namespace
//   (IFLA_NET_NS_FD), then lo up, the address, the interface up and the default route, as
//   `ip link add … type veth peer name … netns <pid>; link set lo up; addr add; link set up;
//   route replace default via` do.
// In berthd's namespace (the pool thread): the host end joins the bridge and goes up.
//
// Only syscall wrappers and stack buffers here: the inside half runs in a child that shares
// the daemon's memory (no malloc, no stdio). Errors come back as an errno and the step's name.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "berth-netlink.h"

#define MSG_BYTES 1024

typedef struct {
  struct nlmsghdr hdr;
  char body[MSG_BYTES];
} nl_msg;

static void msg_init(nl_msg *m, unsigned short type, unsigned short flags, const void *head, size_t head_len) {
  memset(m, 0, sizeof *m);
  m->hdr.nlmsg_len = NLMSG_LENGTH(head_len);
  m->hdr.nlmsg_type = type;
  m->hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  memcpy(NLMSG_DATA(&m->hdr), head, head_len);
}

static struct rtattr *attr_put(nl_msg *m, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)&m->hdr + NLMSG_ALIGN(m->hdr.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->hdr.nlmsg_len = NLMSG_ALIGN(m->hdr.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void attr_str(nl_msg *m, unsigned short type, const char *s) {
  attr_put(m, type, s, strlen(s) + 1);
}

static void attr_u32(nl_msg *m, unsigned short type, uint32_t v) {
  attr_put(m, type, &v, sizeof v);
}

/** Closes a nest opened with attr_put(m, type, NULL, 0): its length covers what was added since. */
static void nest_end(nl_msg *m, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)&m->hdr + m->hdr.nlmsg_len - (char *)nest);
}

/** Sends m and reads the kernel's answer: 0, or the errno it reported (or a socket call's). */
static int nl_talk(int sock, nl_msg *m) {
  static const struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, &m->hdr, m->hdr.nlmsg_len, 0, (const struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  char buf[4096] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return -e->error;
      }
    }
  }
}

/** How long the kernel may take to answer one request: a pool thread must never wait for ever. */
#define ANSWER_TIMEOUT_S 10

static int nl_open(void) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) return -1;
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  struct timeval answer = {.tv_sec = ANSWER_TIMEOUT_S};
  if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &answer, sizeof answer) != 0 || bind(sock, (struct sockaddr *)&local, sizeof local) != 0) {
    int err = errno;
    close(sock);
    errno = err;
    return -1;
  }
  return sock;
}

/** The index of `name` in the socket's namespace (SIOCGIFINDEX works on any socket there); 0 and errno set if none. */
static int if_index(int sock, const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t len = strnlen(name, IFNAMSIZ - 1);
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(sock, SIOCGIFINDEX, &ifr) != 0) return 0;
  return ifr.ifr_ifindex;
}

/** RTM_NEWLINK on an existing link: up, and into `master` when it is not 0. */
static int link_up(int sock, int index, int master) {
  nl_msg m;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (master) attr_u32(&m, IFLA_MASTER, (uint32_t)master);
  return nl_talk(sock, &m);
}

static int fail_at(const char **step, const char *name, int err) {
  *step = name;
  return err ? err : EIO;
}

int berth_plug_inside(const plug_args *a, const char **step) {
  int sock = nl_open();
  if (sock < 0) return fail_at(step, "socket", errno);
  int err = 0;
  nl_msg m;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  attr_str(&m, IFLA_IFNAME, a->if_name);
  attr_put(&m, IFLA_ADDRESS, a->mac, sizeof a->mac);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  struct rtattr *linkinfo = attr_put(&m, IFLA_LINKINFO, NULL, 0);
  attr_str(&m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = attr_put(&m, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = attr_put(&m, VETH_INFO_PEER, NULL, 0);
  // The peer's ifinfomsg comes first in VETH_INFO_PEER, then its own attributes.
  m.hdr.nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
  attr_str(&m, IFLA_IFNAME, a->host_name);
  if (a->mtu) attr_u32(&m, IFLA_MTU, a->mtu);
  attr_u32(&m, IFLA_NET_NS_FD, (uint32_t)a->host_ns_fd);
  nest_end(&m, peer);
  nest_end(&m, data);
  nest_end(&m, linkinfo);
  if ((err = nl_talk(sock, &m))) goto out_link;

  int lo = if_index(sock, "lo");
  if (!lo || (err = link_up(sock, lo, 0))) {
    err = fail_at(step, "link set lo up", lo ? err : errno);
    goto out;
  }
  int index = if_index(sock, a->if_name);
  if (!index) {
    err = fail_at(step, "link add", errno);
    goto out;
  }
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = a->prefix_len, .ifa_index = (uint32_t)index};
  msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  attr_put(&m, IFA_LOCAL, &a->address, sizeof a->address);
  attr_put(&m, IFA_ADDRESS, &a->address, sizeof a->address);
  if ((err = nl_talk(sock, &m))) {
    err = fail_at(step, "addr add", err);
    goto out;
  }
  if ((err = link_up(sock, index, 0))) {
    err = fail_at(step, "link set up", err);
    goto out;
  }
  if (a->has_gateway) {
    struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
    attr_put(&m, RTA_GATEWAY, &a->gateway, sizeof a->gateway);
    attr_u32(&m, RTA_OIF, (uint32_t)index);
    if ((err = nl_talk(sock, &m))) err = fail_at(step, "route replace default", err);
  }
  goto out;
out_link:
  err = fail_at(step, "link add", err);
out:
  close(sock);
  return err;
}

int berth_plug_host(const plug_args *a, const char **step) {
  int sock = nl_open();
  if (sock < 0) return fail_at(step, "socket", errno);
  int err = 0;
  int bridge = if_index(sock, a->bridge);
  int index = bridge ? if_index(sock, a->host_name) : 0;
  if (!bridge || !index) err = fail_at(step, bridge ? "link set master: no such link" : "link set master: no such bridge", errno);
  else if ((err = link_up(sock, index, bridge))) err = fail_at(step, "link set master up", err);
  close(sock);
  return err;
}

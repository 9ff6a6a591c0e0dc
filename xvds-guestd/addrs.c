/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addrs.c — enumerate the guest's addresses (getifaddrs) and watch for
 * changes through rtnetlink.  The netlink messages are only a wake-up: the
 * list is always re-read whole, so that a lost notification costs nothing.
 */
#include <config.h>

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <ifaddrs.h>
#include <string.h>
#include <unistd.h>

#include "addrs.h"
#include "common/log.h"

int
addrs_collect(struct report_addrs *r)
{
	struct ifaddrs *ifa, *i;
	size_t	 skipped = 0;

	r->n = 0;
	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return -1;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct report_addr *a;
		const unsigned char *mask;
		size_t	 k, masklen;
		unsigned prefix = 0;

		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    (i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (strlen(i->ifa_name) > REPORT_IFNAME_MAX || r->n == REPORT_ADDRS_N) {
			skipped++;
			continue;
		}
		a = &r->addr[r->n];
		memset(a, 0, sizeof(*a));
		strcpy(a->ifname, i->ifa_name);	/* length checked above */
		a->family = i->ifa_addr->sa_family;
		if (a->family == AF_INET) {
			memcpy(a->addr, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
			mask = (const unsigned char *)&((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr;
			masklen = 4;
		} else {
			memcpy(a->addr, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
			mask = (const unsigned char *)&((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr;
			masklen = 16;
		}
		for (k = 0; k < masklen; k++)
			prefix += (unsigned)__builtin_popcount(mask[k]);
		a->prefix = prefix;
		r->n++;
	}
	freeifaddrs(ifa);
	/*
	 * The protocol's limit: with more addresses than it carries, keep the
	 * ones dom0 prefers and say that some were left out.
	 */
	if (skipped > 0)
		log_warnx("%zu addresses not reported (more than %d, or an "
		    "interface name longer than %d)", skipped, REPORT_ADDRS_N,
		    REPORT_IFNAME_MAX);
	report_addrs_sort(r);
	return 0;
}

int
addrs_equal(const struct report_addrs *a, const struct report_addrs *b)
{
	size_t	 i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct report_addr *x = &a->addr[i], *y = &b->addr[i];

		if (x->family != y->family || x->prefix != y->prefix ||
		    strcmp(x->ifname, y->ifname) != 0 ||
		    memcmp(x->addr, y->addr, sizeof(x->addr)) != 0)
			return 0;
	}
	return 1;
}

int
addrs_monitor_open(void)
{
	struct sockaddr_nl sa;
	int	 fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd == -1) {
		log_warn("netlink socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	/* Links too: an interface going down takes its addresses along. */
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_warn("netlink bind");
		close(fd);
		return -1;
	}
	return fd;
}

int
addrs_monitor_drain(int fd)
{
	char	 buf[8192];
	ssize_t	 n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		/* ENOBUFS: notifications were lost; re-reading the list covers it. */
		if (n == -1 && errno == ENOBUFS)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		log_warn("netlink recv");
		return -1;
	}
}

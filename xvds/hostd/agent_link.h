/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/agent_link.h — xvdsd's link to the controller (xvds-agent(7), the
 * CONTROLLER section of xvdsd(8)): registers the host, streams samples
 * and every VM's change of state, and carries out the controller's
 * operations through the same calls as the control socket (hostd/xvdsd.h).
 * Without a controller block in xvds.conf(5) it does nothing.
 */
#ifndef XVDS_HOSTD_AGENT_LINK_H
#define XVDS_HOSTD_AGENT_LINK_H

struct event_base;
struct conf_settings;

/*
 * Connects (and keeps reconnecting) if s has a controller block.  -1,
 * logged, if the certificate files are unusable or the certificate's CN
 * is not s's host-name; 0 otherwise.  Copies what it needs of s.
 */
int	agent_link_init(struct event_base *, const struct conf_settings *);
/*
 * SIGHUP: a changed controller block (or host-name) replaces the link,
 * which reconnects; an unchanged one keeps it.  -1, logged, if the new
 * settings are unusable: the old link stays.
 */
int	agent_link_reload(const struct conf_settings *);
/* Closes the link; results of operations still under way are dropped. */
void	agent_link_shutdown(void);
/* hostd/vm.c's hook: VM name changed state (a state message follows). */
void	agent_link_vm_changed(const char *name, void *arg);

#endif

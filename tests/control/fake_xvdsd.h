/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_xvdsd.h — fake VMs and a fake host behind hostd/xvdsd.h (fake_xvdsd.c),
 * for the control socket's tests: test_control.c and the fake daemon the
 * xvdsctl test talks to.  Not the simulated hypervisor (hvsim/sim.c): there
 * is no domain behind these VMs, only their state machines.
 */
#ifndef XVDS_FAKE_XVDSD_H
#define XVDS_FAKE_XVDSD_H

struct event_base;

/*
 * (Re)fills the table with the VMs listed in fake_xvdsd.c.  Actions
 * settle after a delay on base's clock: the default (ms), or the VM's.
 */
void	fake_init(struct event_base *, unsigned delay_ms);
/* Answers every action still under way with "failed", as xvdsd stopping. */
void	fake_fini(void);
/* Actions under way. */
unsigned fake_pending(void);
/* Makes host_view() fail (1) or work (0). */
void	fake_host_fail(int);
/* Sets one VM's delay; -1 if there is no such VM. */
int	fake_vm_delay(const char *name, unsigned ms);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim/sim.h — the knobs of the simulated hypervisor (hvsim/sim.c), for unit
 * tests, scale benchmarks and the policy simulator.  Everything else is
 * hv/hv.h.  Each struct hv is one simulated host; any number may live in one
 * process, on one event loop or several.
 */
#ifndef XVDS_HVSIM_SIM_H
#define XVDS_HVSIM_SIM_H

#include <stdint.h>

#include "hv/hv.h"

/* The operations of hv/hv.h that take time and may be made to fail. */
enum hv_sim_op {
	HV_SIM_OP_CREATE,
	HV_SIM_OP_RESTORE,
	HV_SIM_OP_SAVE,
	HV_SIM_OP_PAUSE,
	HV_SIM_OP_UNPAUSE,
	HV_SIM_OP_SHUTDOWN,
	HV_SIM_OP_DESTROY,
	HV_SIM_OP_SET_VCPUS,
	HV_SIM_OP_SET_MEMORY,
	HV_SIM_OP_MIGRATE_SEND,
	HV_SIM_OP_MIGRATE_RECEIVE,
	HV_SIM_OP__COUNT,
};

extern const char *const hv_sim_op_names[];

/*
 * The domid a failed create or restore reports to its hv_done_cb: Xen's
 * DOMID_INVALID, which is also what libxl hands back.
 */
#define HV_SIM_DOMID_INVALID	0x7FF4u

/*
 * The host: physical CPUs, memory, and dom0's share of it.  Only while
 * dom0 is the only domain.  Default 4 CPUs, 16384 MiB, dom0 1024 MiB.
 */
int	hv_sim_set_host(struct hv *, unsigned cpus, uint64_t total_mib,
	    uint64_t dom0_mib);

/*
 * How long an operation takes, on the event loop's timers.  Zero still
 * completes from the loop.  Defaults: create 50, restore and save 30,
 * migrate send and receive 30 (after the stream has gone through),
 * destroy 5, shutdown (to ask) 1, the others 1 ms.
 */
int	hv_sim_set_latency(struct hv *, enum hv_sim_op, unsigned ms);
/* How long a running guest takes to power off once asked; default 100 ms. */
void	hv_sim_set_shutdown_delay(struct hv *, unsigned ms);

/*
 * The next operation of that kind to start ends with HV_FAILED (the
 * domain as it was) or HV_LOST (the domain removed), whatever it would
 * have done.  HV_OK cancels an injection not yet used.  A migrate send
 * so made to fail writes only the first half of its stream, as a broken
 * migration does; a migrate receive reads the whole stream first.
 */
int	hv_sim_fail_next(struct hv *, enum hv_sim_op, enum hv_result);

/*
 * The guest dies on its own, now: HV_DEATH_GONE removes the domain, any
 * other reason leaves it shut down until destroyed.  A watched domain is
 * reported once, from the loop.
 */
int	hv_sim_kill(struct hv *, uint32_t domid, enum hv_death);

/*
 * How many CPUs the domain keeps busy while it runs (0.5 = half of one);
 * capped by its online vCPUs, and scaled down when the host's domains ask
 * for more than it has.  Domain 0 may be given a load too.
 */
int	hv_sim_set_load(struct hv *, uint32_t domid, double cpus_busy);

/*
 * The clock that drives CPU time and start times.  LOOP (the default) is
 * the monotonic clock libevent's timers run on, plus whatever
 * hv_sim_advance added; MANUAL moves only with hv_sim_advance, for exact
 * figures in tests.  Switching keeps the clock continuous.  Operation
 * latencies always run on the loop's timers.
 */
enum hv_sim_clock {
	HV_SIM_CLOCK_LOOP,
	HV_SIM_CLOCK_MANUAL,
};

void	hv_sim_set_clock(struct hv *, enum hv_sim_clock);
void	hv_sim_advance(struct hv *, uint64_t ns);
/* Nanoseconds of simulated time since hv_open. */
uint64_t hv_sim_now(struct hv *);

/* Operations under way plus reports not yet delivered (tests, drains). */
size_t	hv_sim_pending(struct hv *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_fake.h — the messages a fake host sends (xvds-agent(7)), for the
 * controller's tests: tests/ctrl/fake_agent.c and test_ctrl_agent.c.
 */
#ifndef XVDS_TEST_AGENT_FAKE_H
#define XVDS_TEST_AGENT_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/msg.h"

/* A hello of this protocol version from host, hypervisor "fake". */
void	fake_hello(struct agent_msg *, const char *host, unsigned cpus,
	    uint64_t memory_mib);
/* A state with no boot id; domid may be AGENT_NODOMAIN; addr may be "". */
void	fake_state(struct agent_msg *, const char *vm, enum vm_state,
	    uint32_t domid, const char *addr);
/* A sample of the host's figures only, taken now: CPU is half used. */
void	fake_sample(struct agent_msg *, unsigned rvm, unsigned tcpu,
	    uint64_t tmem_mib, uint64_t fmem_mib);
/* An op's result (a failure's code "failed"), or a pong. */
void	fake_result(struct agent_msg *, int64_t id, bool ok);
void	fake_pong(struct agent_msg *, int64_t seq);
/* The end of the states after a welcome: n of them were sent. */
void	fake_resynced(struct agent_msg *, uint32_t n);

#endif

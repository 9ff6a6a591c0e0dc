/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_fake.c — a fake host's messages (agent_fake.h).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_fake.h"

void
fake_hello(struct agent_msg *m, const char *host, unsigned cpus,
    uint64_t memory_mib)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_HELLO;
	m->u.hello.v = AGENT_PROTO_VERSION;
	snprintf(m->u.hello.host, sizeof(m->u.hello.host), "%s", host);
	m->u.hello.cpus = cpus;
	m->u.hello.memory_mib = memory_mib;
	snprintf(m->u.hello.hypervisor, sizeof(m->u.hello.hypervisor), "fake");
}

void
fake_state(struct agent_msg *m, const char *vm, enum vm_state st,
    uint32_t domid, const char *addr)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_STATE;
	snprintf(m->u.state.vm, sizeof(m->u.state.vm), "%s", vm);
	m->u.state.state = st;
	m->u.state.domid = domid;
	snprintf(m->u.state.addr, sizeof(m->u.state.addr), "%s", addr);
}

void
fake_sample(struct agent_msg *m, unsigned rvm, unsigned tcpu,
    uint64_t tmem_mib, uint64_t fmem_mib)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_SAMPLE;
	m->u.sample.time = time(NULL);
	m->u.sample.rvm = rvm;
	m->u.sample.tcpu = tcpu;
	m->u.sample.acpu = tcpu / 2;
	m->u.sample.fcpu = tcpu - tcpu / 2;
	m->u.sample.tmem_mib = tmem_mib;
	m->u.sample.fmem_mib = fmem_mib;
}

void
fake_result(struct agent_msg *m, int64_t id, bool ok)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_RESULT;
	m->u.result.id = id;
	m->u.result.ok = ok;
	if (!ok) {
		snprintf(m->u.result.code, sizeof(m->u.result.code), "failed");
		snprintf(m->u.result.message, sizeof(m->u.result.message),
		    "refused by the fake host");
	}
}

void
fake_pong(struct agent_msg *m, int64_t seq)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_PONG;
	m->u.seq = seq;
}

void
fake_resynced(struct agent_msg *m, uint32_t n)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_RESYNCED;
	m->u.resynced = n;
}

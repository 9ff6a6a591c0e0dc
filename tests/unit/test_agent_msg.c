/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_agent_msg.c — the agent channel's messages (xvds/agent/msg.c):
 * every kind round-trips through its line; each malformed line is refused
 * with a reason; the encoder refuses what the decoder would; the limits
 * hold at their edges.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/msg.h"

#define BOOT	"0123456789abcdef0123456789abcdef"

/* Encodes, checks the line, decodes, and checks it came back the same. */
static void
round_trip(const struct agent_msg *m, const char *want)
{
	struct agent_msg back;
	char	 err[256], *s;

	s = agent_msg_encode(m, err, sizeof(err));
	if (s == NULL)
		fail_msg("encode: %s", err);
	if (want != NULL)
		assert_string_equal(s, want);
	assert_null(strchr(s, '\n'));
	if (agent_msg_decode(s, strlen(s), &back, NULL, err, sizeof(err)) != 0)
		fail_msg("decode %s: %s", s, err);
	if (!agent_msg_equal(m, &back))
		fail_msg("not the same again: %s", s);
	agent_msg_clear(&back);
	free(s);
}

static void
test_round_trips(void **state)
{
	struct agent_msg m;
	struct agent_vm_sample vms[2];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_HELLO;
	m.u.hello.v = 1;
	snprintf(m.u.hello.host, sizeof(m.u.hello.host), "xen-07");
	m.u.hello.cpus = 16;
	m.u.hello.memory_mib = 65536;
	snprintf(m.u.hello.hypervisor, sizeof(m.u.hello.hypervisor), "xen 4.17.7");
	round_trip(&m, "{\"msg\":\"hello\",\"v\":1,\"host\":\"xen-07\",\"capacity\":"
	    "{\"cpus\":16,\"memory_mib\":65536,\"hypervisor\":\"xen 4.17.7\"}}");

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_WELCOME;
	m.u.welcome.v = 1;
	snprintf(m.u.welcome.host, sizeof(m.u.welcome.host), "xen-07");
	m.u.welcome.sample_s = 5;
	round_trip(&m, "{\"msg\":\"welcome\",\"v\":1,\"host\":\"xen-07\","
	    "\"sample_s\":5}");

	memset(&m, 0, sizeof(m));
	memset(vms, 0, sizeof(vms));
	snprintf(vms[0].vm, sizeof(vms[0].vm), "lab-01");
	vms[0].cpu_pct = 12.5;
	vms[0].memory_mib = 2048;
	snprintf(vms[1].vm, sizeof(vms[1].vm), "alice");
	vms[1].cpu_pct = 0.1;	/* not exact in binary: must come back the same */
	vms[1].memory_mib = 4096;
	m.type = AGENT_M_SAMPLE;
	m.u.sample = (struct agent_sample){ .time = 1800000000, .rvm = 2,
	    .tcpu = 1600, .fcpu = 1400, .acpu = 400, .tmem_mib = 65536,
	    .fmem_mib = 58000, .nvms = 2, .vms = vms };
	round_trip(&m, NULL);
	m.u.sample.nvms = 0;
	round_trip(&m, "{\"msg\":\"sample\",\"time\":1800000000,\"host\":{\"rvm\":2,"
	    "\"tcpu\":1600,\"fcpu\":1400,\"acpu\":400,\"tmem_mib\":65536,"
	    "\"fmem_mib\":58000},\"vms\":[]}");

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_STATE;
	snprintf(m.u.state.vm, sizeof(m.u.state.vm), "lab-01");
	m.u.state.state = VM_S_READY;
	m.u.state.domid = 12;
	snprintf(m.u.state.boot_id, sizeof(m.u.state.boot_id), BOOT);
	snprintf(m.u.state.addr, sizeof(m.u.state.addr), "10.77.0.2");
	snprintf(m.u.state.rdp_sha256, sizeof(m.u.state.rdp_sha256), "%s%s",
	    BOOT, BOOT);
	round_trip(&m, "{\"msg\":\"state\",\"vm\":\"lab-01\",\"state\":\"ready\","
	    "\"domid\":12,\"boot_id\":\"" BOOT "\",\"addr\":\"10.77.0.2\","
	    "\"rdp_sha256\":\"" BOOT BOOT "\"}");
	m.u.state.rdp_sha256[0] = '\0';
	m.u.state.state = VM_S_SAVED;
	m.u.state.domid = AGENT_NODOMAIN;
	m.u.state.boot_id[0] = '\0';
	snprintf(m.u.state.addr, sizeof(m.u.state.addr), "fe80::1");
	round_trip(&m, "{\"msg\":\"state\",\"vm\":\"lab-01\",\"state\":\"saved\","
	    "\"domid\":null,\"boot_id\":\"\",\"addr\":\"fe80::1\","
	    "\"rdp_sha256\":\"\"}");

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op.id = 42;
	snprintf(m.u.op.vm, sizeof(m.u.op.vm), "lab-01");
	m.u.op.action = AGENT_A_UNPAUSE;
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"unpause\",\"args\":{}}");
	m.u.op.action = AGENT_A_MIGRATE;
	snprintf(m.u.op.host, sizeof(m.u.op.host), "[2001:db8::2]:8003");
	m.u.op.live = true;
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"migrate\",\"args\":{\"host\":\"[2001:db8::2]:8003\",\"live\":true}}");
	memset(&m.u.op.host, 0, sizeof(m.u.op.host));
	m.u.op.live = false;
	m.u.op.action = AGENT_A_SET;
	m.u.op.memory_mib = 3072;
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"set\",\"args\":{\"memory_mib\":3072}}");
	m.u.op.vcpus = 4;
	round_trip(&m, NULL);
	m.u.op.vcpus = 0;
	m.u.op.memory_mib = 0;
	m.u.op.action = AGENT_A_DEFINE;
	snprintf(m.u.op.template, sizeof(m.u.op.template), "pvm-desk");
	m.u.op.kind = VM_PVM;
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"define\",\"args\":{\"template\":\"pvm-desk\",\"kind\":\"pvm\"}}");
	memset(&m.u.op.template, 0, sizeof(m.u.op.template));
	m.u.op.kind = 0;
	m.u.op.action = AGENT_A_CREDENTIAL;
	memcpy(m.u.op.user, "xvds-abcdefgh", CREDENTIAL_USER_LEN + 1);
	memcpy(m.u.op.password, "ABCDEFGHJKLMNPQRSTUVWX2", CREDENTIAL_PASSWORD_LEN + 1);
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"credential\",\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}}");
	memset(&m.u.op.user, 0, sizeof(m.u.op.user));
	memset(&m.u.op.password, 0, sizeof(m.u.op.password));
	m.u.op.action = AGENT_A_FORGET;
	round_trip(&m, "{\"msg\":\"op\",\"id\":42,\"vm\":\"lab-01\",\"action\":"
	    "\"forget\",\"args\":{}}");

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESULT;
	m.u.result.id = 42;
	m.u.result.ok = true;
	round_trip(&m, "{\"msg\":\"result\",\"id\":42,\"ok\":true}");
	m.u.result.ok = false;
	snprintf(m.u.result.code, sizeof(m.u.result.code), "illegal-transition");
	snprintf(m.u.result.message, sizeof(m.u.result.message),
	    "lab-01 is saved: «unpause» needs a paused VM");
	round_trip(&m, NULL);

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_PING;
	m.u.seq = 9007199254740992LL;
	round_trip(&m, "{\"msg\":\"ping\",\"seq\":9007199254740992}");
	m.type = AGENT_M_PONG;
	m.u.seq = 0;
	round_trip(&m, "{\"msg\":\"pong\",\"seq\":0}");

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESYNCED;
	m.u.resynced = 0;
	round_trip(&m, "{\"msg\":\"resynced\",\"states\":0}");
	m.u.resynced = AGENT_RESYNC_MAX;
	round_trip(&m, "{\"msg\":\"resynced\",\"states\":65536}");
}

/* Each of these is refused, with a reason. */
static const char *const bad_lines[] = {
	"",
	"   ",
	"[]",
	"\"hello\"",
	"{}",
	"{\"msg\":1}",
	"{\"msg\":\"bogus\"}",
	"{\"msg\":\"ping\",\"seq\":1} {}",		/* two texts */
	"{\"msg\":\"ping\",\"seq\":1,\"seq\":2}",	/* duplicate */
	"{\"msg\":\"ping\",\"msg\":\"pong\",\"seq\":2}",
	"{\"msg\":\"ping\"}",				/* missing */
	"{\"msg\":\"ping\",\"seq\":1,\"x\":0}",		/* unknown */
	"{\"msg\":\"ping\",\"seq\":\"1\"}",		/* type */
	"{\"msg\":\"ping\",\"seq\":-1}",
	"{\"msg\":\"ping\",\"seq\":9007199254740993}",
	"{\"msg\":\"ping\",\"seq\":1.0}",
	"{\"msg\":\"pi\\u0000ng\",\"seq\":1}",
	"{\"msg\":\"resynced\"}",
	"{\"msg\":\"resynced\",\"states\":-1}",
	"{\"msg\":\"resynced\",\"states\":65537}",
	"{\"msg\":\"resynced\",\"states\":\"3\"}",
	"{\"msg\":\"resynced\",\"states\":3,\"vms\":3}",
	"{\"msg\":\"resynced\",\"count\":3}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"xen-07\",\"capacity\":{\"cpus\":16,"
	    "\"memory_mib\":65536}}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"xen 07\",\"capacity\":{\"cpus\":16,"
	    "\"memory_mib\":65536,\"hypervisor\":\"xen\"}}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"-xen\",\"capacity\":{\"cpus\":16,"
	    "\"memory_mib\":65536,\"hypervisor\":\"xen\"}}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"xen\",\"capacity\":{\"cpus\":0,"
	    "\"memory_mib\":65536,\"hypervisor\":\"xen\"}}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"xen\",\"capacity\":{\"cpus\":1,"
	    "\"memory_mib\":65536,\"hypervisor\":\"xen\\n\"}}",
	"{\"msg\":\"hello\",\"v\":1,\"host\":\"xen\",\"capacity\":{\"cpus\":1,"
	    "\"memory_mib\":65536,\"hypervisor\":\"xen\",\"gpus\":1}}",
	"{\"msg\":\"welcome\",\"v\":2,\"host\":\"xen\",\"sample_s\":5}",
	"{\"msg\":\"welcome\",\"v\":1,\"host\":\"xen\",\"sample_s\":0}",
	"{\"msg\":\"sample\",\"time\":1,\"host\":{\"rvm\":0,\"tcpu\":100,\"fcpu\":200,"
	    "\"acpu\":0,\"tmem_mib\":1,\"fmem_mib\":1},\"vms\":[]}",	/* fcpu > tcpu */
	"{\"msg\":\"sample\",\"time\":1,\"host\":{\"rvm\":0,\"tcpu\":100,\"fcpu\":0,"
	    "\"acpu\":0,\"tmem_mib\":1,\"fmem_mib\":1},\"vms\":{}}",
	"{\"msg\":\"sample\",\"time\":1,\"host\":{\"rvm\":0,\"tcpu\":100,\"fcpu\":0,"
	    "\"acpu\":0,\"tmem_mib\":1,\"fmem_mib\":1},\"vms\":[{\"vm\":\"a\","
	    "\"cpu_pct\":-1,\"memory_mib\":1}]}",
	"{\"msg\":\"sample\",\"time\":1,\"host\":{\"rvm\":0,\"tcpu\":100,\"fcpu\":0,"
	    "\"acpu\":0,\"tmem_mib\":1,\"fmem_mib\":1},\"vms\":[{\"vm\":\"a\","
	    "\"cpu_pct\":1,\"memory_mib\":1},{\"vm\":\"a\",\"cpu_pct\":1,"
	    "\"memory_mib\":1}]}",
	"{\"msg\":\"sample\",\"time\":1,\"host\":{\"rvm\":0,\"tcpu\":100,\"fcpu\":0,"
	    "\"acpu\":0,\"tmem_mib\":1,\"fmem_mib\":1},\"vms\":[{\"vm\":\"a\","
	    "\"cpu_pct\":1e999,\"memory_mib\":1}]}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"sleeping\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":32752,"
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":\"1\","
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"0123\",\"addr\":\"\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"10.0.0.256\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"" BOOT "\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"" BOOT
	    "0123456789ABCDEF0123456789abcdef\"}",
	"{\"msg\":\"state\",\"vm\":\"a\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"\"}",
	"{\"msg\":\"state\",\"vm\":\"../etc\",\"state\":\"ready\",\"domid\":1,"
	    "\"boot_id\":\"\",\"addr\":\"\",\"rdp_sha256\":\"\"}",
	"{\"msg\":\"op\",\"id\":0,\"vm\":\"a\",\"action\":\"start\",\"args\":{}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"explode\",\"args\":{}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"start\",\"args\":[]}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"start\",\"args\":"
	    "{\"live\":true}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"migrate\",\"args\":"
	    "{\"host\":\"h; rm -rf /\",\"live\":true}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"migrate\",\"args\":"
	    "{\"host\":\"h\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"set\",\"args\":{}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"set\",\"args\":"
	    "{\"vcpus\":0}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"set\",\"args\":"
	    "{\"vcpus\":1,\"cpus\":1}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"define\",\"args\":"
	    "{\"template\":\"9lives\",\"kind\":\"cvm\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"define\",\"args\":"
	    "{\"template\":\"desk\",\"kind\":\"xvm\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"forget\",\"args\":"
	    "{\"host\":\"h\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"root\",\"password\":\"ABCDEFGHJKLMNPQRSTUVWX2\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":\"short2\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX:\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVW\\u0000X\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":1}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"credential\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\",\"shell\":\"/bin/sh\"}}",
	"{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":\"start\","
	    "\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":false}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":true,\"error\":\"\",\"message\":\"\"}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":true,\"error\":\"busy\","
	    "\"message\":\"x\"}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":false,\"error\":\"\","
	    "\"message\":\"x\"}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":false,\"error\":\"Busy\","
	    "\"message\":\"x\"}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":false,\"error\":\"busy\","
	    "\"message\":\"a\\u001b[2Jb\"}",
	"{\"msg\":\"result\",\"id\":1,\"ok\":false,\"error\":\"busy\"}",
};

static void
test_malformed(void **state)
{
	struct agent_msg m;
	char	 err[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		err[0] = '\0';
		if (agent_msg_decode(bad_lines[i], strlen(bad_lines[i]), &m, NULL,
		    err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad_lines[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(m.type, 0);	/* cleared */
	}
	/* Raw bytes: invalid UTF-8, a NUL inside; the reason stays printable. */
	assert_int_equal(agent_msg_decode("{\"msg\":\"\xff\"}", 12, &m, NULL, err,
	    sizeof(err)), -1);
	for (i = 0; err[i] != '\0'; i++)
		assert_true(err[i] >= 0x20 && err[i] < 0x7f);
	assert_int_equal(agent_msg_decode("{\"msg\":\"ping\",\"seq\":1}\0", 23, &m,
	    NULL, err, sizeof(err)), -1);
}

/* A hello of another version is told apart, so that the controller says so. */
static void
test_version(void **state)
{
	struct agent_msg m;
	const char *l = "{\"msg\":\"hello\",\"v\":2,\"host\":\"xen\",\"features\":[]}";
	char	 err[256];
	unsigned v;

	(void)state;
	assert_int_equal(agent_msg_decode(l, strlen(l), &m, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(v, 2);
	assert_non_null(strstr(err, "version 2"));
	l = "{\"msg\":\"hello\",\"v\":1,\"host\":\"xen\"}";
	assert_int_equal(agent_msg_decode(l, strlen(l), &m, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(v, AGENT_PROTO_VERSION);
}

/*
 * A credential op's refusals never quote the password (the reason is
 * logged); the encoder refuses a bad one; clearing wipes it.
 */
static void
test_credential_secret(void **state)
{
	const char *l = "{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":"
	    "\"credential\",\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"SECRETSECRETSECRETSECR!\"}}";
	const char *l3 = "{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":"
	    "\"credential\",\"args\":{\"user\":\"xvds-abcdefgh\",\"pass\":"
	    "SECRETSECRETSECRETSECRE}}";
	const char *l4 = "{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":"
	    "\"credential\",\"args\":{},\"SECRETSECRETSECRETSECRE\":1}";
	const char *l2 = "{\"msg\":\"op\",\"id\":1,\"vm\":\"a\",\"action\":"
	    "\"credential\",\"args\":{\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"SECRETSECRETSECRETSECRE\",\"x\":1}}";
	struct agent_msg m;
	char	 err[256], *s;
	size_t	 i;

	(void)state;
	assert_int_equal(agent_msg_decode(l, strlen(l), &m, NULL, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "SECRET"));
	assert_non_null(strstr(err, "password"));
	assert_int_equal(agent_msg_decode(l2, strlen(l2), &m, NULL, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "SECRET"));
	/* Cut short: not JSON, and jansson would quote the text near the end. */
	assert_int_equal(agent_msg_decode(l2, (size_t)(strstr(l2, "SECRET") -
	    l2) + 10, &m, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON"));
	assert_null(strstr(err, "SECRET"));
	/* Whatever the members' names: a syntax error, an unknown member. */
	assert_int_equal(agent_msg_decode(l3, strlen(l3), &m, NULL, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "SECRET"));
	assert_int_equal(agent_msg_decode(l4, strlen(l4), &m, NULL, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "SECRET"));

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op.id = 7;
	snprintf(m.u.op.vm, sizeof(m.u.op.vm), "a");
	m.u.op.action = AGENT_A_CREDENTIAL;
	memcpy(m.u.op.user, "xvds-abcdefgh", CREDENTIAL_USER_LEN + 1);
	memcpy(m.u.op.password, "SECRETSECRETSECRETSEC:E", CREDENTIAL_PASSWORD_LEN + 1);
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
	assert_null(strstr(err, "SECRET"));
	m.u.op.user[0] = '\0';
	memcpy(m.u.op.password, "SECRETSECRETSECRETSECRE", CREDENTIAL_PASSWORD_LEN + 1);
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
	memcpy(m.u.op.user, "xvds-abcdefgh", CREDENTIAL_USER_LEN + 1);
	assert_non_null(s = agent_msg_encode(&m, err, sizeof(err)));
	free(s);
	agent_msg_clear(&m);
	for (i = 0; i < sizeof(m.u.op.password); i++)
		assert_int_equal(m.u.op.password[i], 0);
}

/* What would not decode is not sent. */
static void
test_encode_refuses(void **state)
{
	struct agent_msg m;
	char	 err[256];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_STATE;
	snprintf(m.u.state.vm, sizeof(m.u.state.vm), "bad name");
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
	assert_non_null(strstr(err, "VM name"));
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op.id = 1;
	snprintf(m.u.op.vm, sizeof(m.u.op.vm), "a");
	m.u.op.action = AGENT_A_SET;	/* nothing to set */
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
	m.type = AGENT_M__COUNT;
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
}

/* The largest sample fits in a line; one VM more is refused. */
static void
test_limits(void **state)
{
	struct agent_msg m, back;
	struct agent_vm_sample *vms;
	char	 err[256], *s, *line;
	size_t	 i, len;

	(void)state;
	vms = calloc(AGENT_SAMPLE_VMS_MAX + 1, sizeof(*vms));
	assert_non_null(vms);
	for (i = 0; i <= AGENT_SAMPLE_VMS_MAX; i++) {
		snprintf(vms[i].vm, sizeof(vms[i].vm), "%0*zu", AGENT_VM_MAX, i);
		vms[i].cpu_pct = 409599.99999999994;
		vms[i].memory_mib = 1099511627776ULL;
	}
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_SAMPLE;
	m.u.sample.tcpu = 409600;
	m.u.sample.tmem_mib = 1099511627776ULL;
	m.u.sample.vms = vms;
	m.u.sample.nvms = AGENT_SAMPLE_VMS_MAX;
	s = agent_msg_encode(&m, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	len = strlen(s);
	print_message("# largest sample: %zu bytes of %d\n", len, AGENT_MSG_MAX);
	assert_true(len < AGENT_MSG_MAX);
	free(s);
	m.u.sample.nvms = AGENT_SAMPLE_VMS_MAX + 1;
	assert_null(agent_msg_encode(&m, err, sizeof(err)));
	free(vms);

	/* A line of AGENT_MSG_MAX - 1 bytes decodes; one byte more does not. */
	line = malloc(AGENT_MSG_MAX + 1);
	assert_non_null(line);
	memset(line, ' ', AGENT_MSG_MAX + 1);
	memcpy(line, "{\"msg\":\"ping\",\"seq\":7}", 22);
	assert_int_equal(agent_msg_decode(line, AGENT_MSG_MAX - 1, &back, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(back.u.seq, 7);
	assert_int_equal(agent_msg_decode(line, AGENT_MSG_MAX, &back, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "longer"));
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_credential_secret),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

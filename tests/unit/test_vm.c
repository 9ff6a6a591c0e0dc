/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_vm.c — xvdsd's VMs (xvds/hostd/vm.c) on the simulated hypervisor
 * (xvds/hvsim/sim.c), with the guests' reports fed in by the test (a fake
 * reportwatch stands in for xenstore).  Real Xen runs these lifecycles in
 * the lab test; here every path, failures included, runs in milliseconds.
 */
#include <config.h>

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/conf.h"
#include "hv/hv.h"
#include "hvsim/sim.h"
#include "hv/reportwatch.h"
#include "hostd/vm.h"
#include "hostd/xvdsd.h"

/* The fake report watch: the test plays the guests. */

struct reportwatch {
	report_cb	 cb;
	void		*arg;
	uint32_t	 domids[64];
	size_t		 n;
};

static struct reportwatch fake_rw;

struct reportwatch *
reportwatch_open(report_cb cb, void *arg, unsigned max_skew)
{
	(void)max_skew;
	memset(&fake_rw, 0, sizeof(fake_rw));
	fake_rw.cb = cb;
	fake_rw.arg = arg;
	return &fake_rw;
}

void
reportwatch_close(struct reportwatch *rw)
{
	(void)rw;
}

int
reportwatch_fd(struct reportwatch *rw)
{
	static int fds[2] = { -1, -1 };

	(void)rw;
	/* A pipe that never becomes readable. */
	if (fds[0] == -1 && pipe(fds) == -1)
		return -1;
	return fds[0];
}

int
reportwatch_add(struct reportwatch *rw, uint32_t domid, time_t not_before,
    const char *old_boot_id)
{
	(void)not_before;
	(void)old_boot_id;
	if (rw->n < 64)
		rw->domids[rw->n++] = domid;
	return 0;
}

int
reportwatch_remove(struct reportwatch *rw, uint32_t domid)
{
	size_t	 i;

	for (i = 0; i < rw->n; i++)
		if (rw->domids[i] == domid) {
			rw->domids[i] = rw->domids[--rw->n];
			return 0;
		}
	return -1;
}

const struct report_domain *
reportwatch_get(struct reportwatch *rw, uint32_t domid)
{
	(void)rw;
	(void)domid;
	return NULL;
}

size_t
reportwatch_domains(struct reportwatch *rw, uint32_t *ids, size_t max)
{
	(void)ids;
	(void)max;
	return rw->n;
}

int
reportwatch_dispatch(struct reportwatch *rw)
{
	(void)rw;
	return 0;
}

/* The credential key, as xenstore would hold it; the test plays the guest. */
static struct {
	bool		 present;
	uint32_t	 domid;
	char		 val[REPORT_SECRET_MAX + 1];
	unsigned	 puts, removes;
	bool		 fail_put;
} secret;

int
reportwatch_secret_put(struct reportwatch *rw, uint32_t domid, const char *val,
    size_t len)
{
	(void)rw;
	if (secret.fail_put)
		return -1;
	assert_true(len <= REPORT_SECRET_MAX);
	memcpy(secret.val, val, len);
	secret.val[len] = '\0';
	secret.domid = domid;
	secret.present = true;
	secret.puts++;
	return 0;
}

int
reportwatch_secret_remove(struct reportwatch *rw, uint32_t domid)
{
	(void)rw;
	if (secret.present && secret.domid == domid) {
		memset(secret.val, 0, sizeof(secret.val));
		secret.present = false;
	}
	secret.removes++;
	return 0;
}

static bool
watched(uint32_t domid)
{
	size_t	 i;

	for (i = 0; i < fake_rw.n; i++)
		if (fake_rw.domids[i] == domid)
			return true;
	return false;
}

/* The guest in domain domid reports its boot and an address. */
static void
guest_boots(uint32_t domid, const char *boot_id, const char *ip)
{
	struct report_domain d;

	assert_true(watched(domid));
	memset(&d, 0, sizeof(d));
	d.domid = domid;
	d.have_boot = true;
	snprintf(d.boot.boot_id, sizeof(d.boot.boot_id), "%s", boot_id);
	d.boot.version = 1;
	d.boot.time = 1800000000;
	snprintf(d.boot.agent, sizeof(d.boot.agent), "test");
	fake_rw.cb(fake_rw.arg, REPORT_EV_BOOT, REPORT_KEY_BOOT, &d, NULL);
	d.have_addrs = true;
	snprintf(d.addrs.boot_id, sizeof(d.addrs.boot_id), "%s", boot_id);
	d.addrs.n = 1;
	snprintf(d.addrs.addr[0].ifname, sizeof(d.addrs.addr[0].ifname), "eth0");
	d.addrs.addr[0].family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, d.addrs.addr[0].addr), 1);
	d.addrs.addr[0].prefix = 24;
	fake_rw.cb(fake_rw.arg, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, &d, NULL);
}

/* The guest in domain domid says whether an RDP session is on. */
static void
guest_session(uint32_t domid, const char *boot_id, uint64_t seq, int active)
{
	struct report_domain d;

	memset(&d, 0, sizeof(d));
	d.domid = domid;
	d.have_boot = true;
	snprintf(d.boot.boot_id, sizeof(d.boot.boot_id), "%s", boot_id);
	d.have_session = true;
	snprintf(d.session.boot_id, sizeof(d.session.boot_id), "%s", boot_id);
	d.session.seq = seq;
	d.session.active = active;
	fake_rw.cb(fake_rw.arg, REPORT_EV_SESSION, REPORT_KEY_SESSION, &d, NULL);
}

/* The test's world: a temp dir, a loop, a simulated host, xvdsd's VMs. */

static struct {
	char		 dir[64];
	char		 conf[128];
	struct event_base *base;
	struct hv	*hv;
	const char	*tmpl_extra;	/* more lines for the template */
} T;

#define BOOT_A	"0123456789abcdef0123456789abcdef"
#define BOOT_B	"1123456789abcdef0123456789abcdef"
#define BOOT_C	"2123456789abcdef0123456789abcdef"

static void
write_conf(const char *pool_extra)
{
	FILE	*f;

	snprintf(T.conf, sizeof(T.conf), "%s/xvds.conf", T.dir);
	f = fopen(T.conf, "w");
	assert_non_null(f);
	fprintf(f,
	    "state-dir \"%s/state\"\n"
	    "control-socket \"%s/xvdsd.sock\"\n"
	    "store \"%s/store\"\n"
	    "boot-timeout 2s\n"
	    "shutdown-timeout 1s\n"
	    "session-grace 1s\n"
	    "credential-timeout 1s\n"
	    "template \"desk\" {\n"
	    "	type pvh\n"
	    "	vcpus 1 max 2\n"
	    "	memory 128M max 256M\n"
	    "	kernel \"/lab/vmlinuz\"\n"
	    "	network bridge \"xenbr0\"\n"
	    "%s"
	    "}\n"
	    "pool \"lab\" {\n"
	    "	template \"desk\"\n"
	    "	kind cvm\n"
	    "	size 2\n"
	    "%s"
	    "}\n", T.dir, T.dir, T.dir, T.tmpl_extra ? T.tmpl_extra : "",
	    pool_extra);
	fclose(f);
}

static struct xvds_conf *
load_conf(void)
{
	struct xvds_conf *c;
	char	 err[CONF_ERR_MAX];

	c = conf_load(T.conf, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

static int
setup(void **state)
{
	struct hv_callbacks cbs = { vm_domain_died, NULL };

	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/xvds-test-vm.XXXXXX");
	assert_non_null(mkdtemp(T.dir));
	T.base = event_base_new();
	assert_non_null(T.base);
	T.hv = hv_open(T.base, &cbs);
	assert_non_null(T.hv);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	T.tmpl_extra = NULL;
	vm_shutdown();
	hv_close(T.hv);
	event_base_free(T.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Runs the loop until cond holds, or fails after about 5 s. */
#define RUN_UNTIL(cond) do {						\
	int	 spins_;						\
	for (spins_ = 0; !(cond) && spins_ < 5000; spins_++) {		\
		struct timeval tv_ = { 0, 1000 };			\
		event_base_loopexit(T.base, &tv_);			\
		event_base_dispatch(T.base);				\
	}								\
	if (!(cond))							\
		fail_msg("timed out waiting for: %s", #cond);		\
} while (0)

static struct vm_view
view(const char *name)
{
	struct vm_view v;

	assert_int_equal(vm_get(name, &v), XVDS_OK);
	return v;
}

static enum vm_state
state_of(const char *name)
{
	return view(name).state;
}

static bool
domain_exists(uint32_t domid)
{
	struct hv_domain d;

	return hv_domain_info(T.hv, domid, &d) == 0;
}

static bool
domain_is(uint32_t domid, enum hv_dom_state st)
{
	struct hv_domain d;

	return hv_domain_info(T.hv, domid, &d) == 0 && d.state == st;
}

/* A request's reply, kept for the test. */
struct answer {
	bool		 done;
	enum xvds_err	 err;
	char		 msg[256];
};

static void
answered(void *arg, enum xvds_err err, const char *msg)
{
	struct answer *a = arg;

	assert_false(a->done);
	a->done = true;
	a->err = err;
	snprintf(a->msg, sizeof(a->msg), "%s", msg);
}

/* Makes a request that must be accepted, and waits for its reply. */
static struct answer
request(const char *name, enum vm_event ev)
{
	struct answer a = { false, XVDS_OK, "" };
	char	 msg[256];
	enum xvds_err err;

	err = vm_request(name, ev, answered, &a, msg, sizeof(msg));
	if (err != XVDS_OK)
		fail_msg("%s %s refused: %s", vm_event_names[ev], name, msg);
	/* Never answered from within the call. */
	assert_false(a.done);
	RUN_UNTIL(a.done);
	return a;
}

/* Starts the pool and boots both CVMs. */
/* Whether the VM has a whole clean image (its stamp is written last). */
static bool
has_clean(const char *name)
{
	char	 path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/store/clean/%s.json", T.dir, name);
	return stat(path, &st) == 0;
}

static void
start_pool(const char *pool_extra)
{
	write_conf(pool_extra);
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN &&
	    view("lab-02").domid != XVDSD_NODOMAIN);
	assert_int_equal(state_of("lab-01"), VM_S_STARTING);
	guest_boots(view("lab-01").domid, BOOT_A, "10.77.0.21");
	guest_boots(view("lab-02").domid, BOOT_B, "10.77.0.22");
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	assert_int_equal(state_of("lab-02"), VM_S_READY);
	assert_string_equal(view("lab-01").addr, "10.77.0.21");
	/* Fresh from their golden disks, each takes its clean image. */
	RUN_UNTIL(has_clean("lab-01") && has_clean("lab-02") &&
	    state_of("lab-01") == VM_S_READY && state_of("lab-02") == VM_S_READY);
}

static void
test_cvm_lifecycle(void **state)
{
	struct answer a;
	uint32_t first;
	char	 image[160];
	struct stat st;

	(void)state;
	start_pool("");
	first = view("lab-01").domid;

	/* Ready -> Paused -> Ready. */
	a = request("lab-01", VM_EV_PAUSE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_PAUSED);
	a = request("lab-01", VM_EV_UNPAUSE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_READY);

	/* Ready -> Paused -> Saved (image on the store, no domain) -> Ready. */
	request("lab-01", VM_EV_PAUSE);
	a = request("lab-01", VM_EV_SAVE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_SAVED);
	assert_int_equal(view("lab-01").domid, XVDSD_NODOMAIN);
	snprintf(image, sizeof(image), "%s/store/saved/lab-01.img", T.dir);
	assert_int_equal(stat(image, &st), 0);
	a = request("lab-01", VM_EV_RESTORE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	assert_true(view("lab-01").domid != first);
	/* The spent image is gone. */
	assert_int_equal(stat(image, &st), -1);

	/*
	 * Ready -> Running -> (session end: reset) -> Ready: the fast way, its
	 * clean image restored on a new domain, no boot to wait for.
	 */
	a = request("lab-01", VM_EV_SESSION_START);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	first = view("lab-01").domid;
	a = request("lab-01", VM_EV_SESSION_END);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	assert_true(view("lab-01").domid != first);
	assert_string_equal(view("lab-01").boot_id, BOOT_A);
	assert_true(has_clean("lab-01"));
}

/*
 * Resets lab-01 the cold way: a new domain, done only once the fresh
 * guest reports boot, and ready with that boot.  image_dropped: its clean
 * image failed and is gone by the time the cold boot starts.
 */
static void
cold_reset(const char *boot, bool image_dropped)
{
	struct answer b = { false, XVDS_OK, "" };
	uint32_t first = view("lab-01").domid;
	char	 msg[256];

	assert_int_equal(vm_request("lab-01", VM_EV_RESET, answered, &b, msg,
	    sizeof(msg)), XVDS_OK);
	RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN &&
	    view("lab-01").domid != first);
	assert_int_equal(state_of("lab-01"), VM_S_RESETTING);
	if (image_dropped)
		assert_false(has_clean("lab-01"));
	assert_false(b.done);
	guest_boots(view("lab-01").domid, boot, "10.77.0.21");
	RUN_UNTIL(b.done);
	assert_int_equal(b.err, XVDS_OK);
	assert_string_equal(view("lab-01").boot_id, boot);
}

/* Without a usable clean image a reset is cold: a fresh boot, then a new image. */
static void
test_cold_reset(void **state)
{
	char	 path[160];

	(void)state;
	start_pool("");
	snprintf(path, sizeof(path), "%s/store/clean/lab-01.json", T.dir);
	assert_int_equal(unlink(path), 0);
	cold_reset(BOOT_C, false);
	RUN_UNTIL(has_clean("lab-01") && state_of("lab-01") == VM_S_READY);

	/* A clean image that fails to restore: dropped, and the reset is cold. */
	hv_sim_fail_next(T.hv, HV_SIM_OP_RESTORE, HV_FAILED);
	cold_reset(BOOT_A, true);
	RUN_UNTIL(has_clean("lab-01") && state_of("lab-01") == VM_S_READY);

	/* A template that changed: the old image is not used. */
	vm_shutdown();
	T.tmpl_extra = "	cmdline \"quiet\"\n";
	write_conf("");
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	RUN_UNTIL(state_of("lab-01") == VM_S_READY);
	cold_reset(BOOT_B, false);
}

/* A clean image whose save fails: none, and the CVM goes on ready. */
static void
test_clean_image_fails(void **state)
{
	uint32_t domid;

	(void)state;
	write_conf("");
	hv_sim_fail_next(T.hv, HV_SIM_OP_SAVE, HV_FAILED);
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN &&
	    view("lab-02").domid != XVDSD_NODOMAIN);
	guest_boots(view("lab-01").domid, BOOT_A, "10.77.0.21");
	domid = view("lab-01").domid;
	RUN_UNTIL(state_of("lab-01") == VM_S_READY &&
	    view("lab-01").last_error[0] != '\0');
	assert_false(has_clean("lab-01"));
	assert_int_equal(view("lab-01").domid, domid);
	assert_non_null(strstr(view("lab-01").last_error, "clean image"));
}

/*
 * A clean image just taken that does not restore at once (a hotplug
 * script overrun in a busy dom0, say) is restored again: the CVM is not
 * lost for a failure that passes.
 */
static void
test_clean_image_restored_again(void **state)
{
	(void)state;
	hv_sim_fail_next(T.hv, HV_SIM_OP_RESTORE, HV_FAILED);
	start_pool("");
	assert_string_equal(view("lab-01").boot_id, BOOT_A);
	assert_string_equal(view("lab-02").boot_id, BOOT_B);
	assert_true(view("lab-01").domid != XVDSD_NODOMAIN &&
	    view("lab-02").domid != XVDSD_NODOMAIN);
}

static void
test_refusals(void **state)
{
	char	 msg[256];
	struct answer a = { false, XVDS_OK, "" };

	(void)state;
	start_pool("");
	assert_int_equal(vm_request("nosuch", VM_EV_PAUSE, answered, &a, msg,
	    sizeof(msg)), XVDS_E_NOVM);
	/* Unpause of a ready CVM: illegal, and nothing changes. */
	assert_int_equal(vm_request("lab-01", VM_EV_UNPAUSE, answered, &a, msg,
	    sizeof(msg)), XVDS_E_ILLEGAL);
	assert_non_null(strstr(msg, "illegal transition"));
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	/* While an action is under way: busy. */
	hv_sim_set_latency(T.hv, HV_SIM_OP_PAUSE, 200);
	assert_int_equal(vm_request("lab-01", VM_EV_PAUSE, answered, &a, msg,
	    sizeof(msg)), XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_PAUSING);
	{
		struct answer b = { false, XVDS_OK, "" };

		assert_int_equal(vm_request("lab-01", VM_EV_SAVE, answered, &b,
		    msg, sizeof(msg)), XVDS_E_BUSY);
	}
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_OK);
	/* Migration needs a peer: its own call, not a plain request. */
	assert_int_equal(vm_request("lab-02", VM_EV_MIGRATE, answered, &a, msg,
	    sizeof(msg)), XVDS_E_INVAL);
	assert_int_equal(vm_migrate("nope", "xen-02", true, answered, &a, msg,
	    sizeof(msg)), XVDS_E_NOVM);
	assert_int_equal(vm_migrate("lab-02", "", true, answered, &a, msg,
	    sizeof(msg)), XVDS_E_INVAL);
	{
		struct answer b = { false, XVDS_OK, "" };

		/* Without migrate_init() (no key), it fails and stays. */
		assert_int_equal(vm_migrate("lab-02", "xen-02", true, answered, &b,
		    msg, sizeof(msg)), XVDS_OK);
		RUN_UNTIL(b.done);
		assert_int_equal(b.err, XVDS_E_FAILED);
		assert_non_null(strstr(b.msg, "migration is disabled"));
		assert_int_equal(state_of("lab-02"), VM_S_READY);
	}
	/* Not requests at all. */
	assert_int_equal(vm_request("lab-02", VM_EV_DONE, answered, &a, msg,
	    sizeof(msg)), XVDS_E_INVAL);
}

static void
test_failures(void **state)
{
	struct answer a;
	uint32_t domid;

	(void)state;
	start_pool("");
	/* A pause that fails with the domain intact: back to ready, and said. */
	hv_sim_fail_next(T.hv, HV_SIM_OP_PAUSE, HV_FAILED);
	a = request("lab-01", VM_EV_PAUSE);
	assert_int_equal(a.err, XVDS_E_FAILED);
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	/* The error stays on show until the next action starts. */
	assert_non_null(strstr(a.msg, view("lab-01").last_error));
	assert_true(view("lab-01").last_error[0] != '\0');
	/* A save that loses the domain: failed, domain forgotten. */
	request("lab-01", VM_EV_PAUSE);
	hv_sim_fail_next(T.hv, HV_SIM_OP_SAVE, HV_LOST);
	a = request("lab-01", VM_EV_SAVE);
	assert_int_equal(a.err, XVDS_E_FAILED);
	assert_int_equal(state_of("lab-01"), VM_S_FAILED);
	assert_true(view("lab-01").last_error[0] != '\0');
	/* The operator clears it. */
	a = request("lab-01", VM_EV_DESTROY);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_INACTIVE);

	/* A guest that dies on its own: reaped, inactive. */
	domid = view("lab-02").domid;
	assert_int_equal(hv_sim_kill(T.hv, domid, HV_DEATH_CRASH), 0);
	RUN_UNTIL(state_of("lab-02") == VM_S_INACTIVE &&
	    view("lab-02").domid == XVDSD_NODOMAIN);
	assert_false(domain_exists(domid));
}

static void
test_destroy_while_starting(void **state)
{
	char	 msg[256];
	struct answer a;
	struct hv_domain *list;
	size_t	 n;

	(void)state;
	start_pool("");
	assert_int_equal(vm_define("dave", "desk", VM_PVM, msg, sizeof(msg)),
	    XVDS_OK);
	hv_sim_set_latency(T.hv, HV_SIM_OP_CREATE, 200);
	{
		struct answer b = { false, XVDS_OK, "" };

		assert_int_equal(vm_request("dave", VM_EV_START, answered, &b, msg,
		    sizeof(msg)), XVDS_OK);
		assert_int_equal(state_of("dave"), VM_S_STARTING);
		/* Destroyed before its domain exists: the start fails... */
		a = request("dave", VM_EV_DESTROY);
		assert_int_equal(a.err, XVDS_OK);
		RUN_UNTIL(b.done);
		assert_int_equal(b.err, XVDS_E_FAILED);
	}
	assert_int_equal(state_of("dave"), VM_S_INACTIVE);
	/* ...and the domain made afterwards does not stay. */
	RUN_UNTIL(hv_sim_pending(T.hv) == 0 && view("dave").domid == XVDSD_NODOMAIN);
	assert_int_equal(hv_list_domains(T.hv, &list, &n), 0);
	free(list);
	assert_int_equal(n, 3);		/* dom0 and the pool's two CVMs */
}

static void
test_boot_timeout(void **state)
{
	(void)state;
	write_conf("");
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN);
	/* No guest ever reports: failed after boot-timeout (2 s), domain gone. */
	{
		int	 i;

		for (i = 0; i < 40 && state_of("lab-01") != VM_S_FAILED; i++) {
			struct timeval tv = { 0, 100000 };

			event_base_loopexit(T.base, &tv);
			event_base_dispatch(T.base);
		}
	}
	assert_int_equal(state_of("lab-01"), VM_S_FAILED);
	RUN_UNTIL(view("lab-01").domid == XVDSD_NODOMAIN);
	assert_non_null(strstr(view("lab-01").last_error, "took too long"));
}

static void
test_pvm(void **state)
{
	char	 msg[256];
	struct answer a;
	uint32_t domid;

	(void)state;
	start_pool("");
	assert_int_equal(vm_define("alice", "desk", VM_PVM, msg, sizeof(msg)),
	    XVDS_OK);
	assert_int_equal(vm_define("alice", "desk", VM_PVM, msg, sizeof(msg)),
	    XVDS_E_EXISTS);
	assert_int_equal(vm_define("bad/name", "desk", VM_PVM, msg, sizeof(msg)),
	    XVDS_E_INVAL);
	assert_int_equal(vm_define("bob", "nosuch", VM_PVM, msg, sizeof(msg)),
	    XVDS_E_INVAL);
	assert_int_equal(state_of("alice"), VM_S_INACTIVE);
	{
		struct answer b = { false, XVDS_OK, "" };

		assert_int_equal(vm_request("alice", VM_EV_START, answered, &b,
		    msg, sizeof(msg)), XVDS_OK);
		RUN_UNTIL(view("alice").domid != XVDSD_NODOMAIN);
		assert_false(b.done);	/* ready only once booted */
		guest_boots(view("alice").domid, BOOT_A, "10.77.0.31");
		RUN_UNTIL(b.done);
		assert_int_equal(b.err, XVDS_OK);
	}
	assert_int_equal(state_of("alice"), VM_S_READY);
	/* A PVM is never paused. */
	assert_int_equal(vm_request("alice", VM_EV_PAUSE, answered, &a, msg,
	    sizeof(msg)), XVDS_E_ILLEGAL);
	request("alice", VM_EV_SESSION_START);
	domid = view("alice").domid;
	/* Session end: clean shutdown, then inactive. */
	a = request("alice", VM_EV_SESSION_END);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("alice"), VM_S_INACTIVE);
	assert_int_equal(view("alice").domid, XVDSD_NODOMAIN);
	assert_false(domain_exists(domid));
	assert_int_equal(vm_undefine("alice", msg, sizeof(msg)), XVDS_OK);
	assert_int_equal(vm_get("alice", &(struct vm_view){ 0 }), XVDS_E_NOVM);
	/* Pool VMs are the configuration's. */
	assert_int_equal(vm_undefine("lab-01", msg, sizeof(msg)), XVDS_E_ILLEGAL);
}

static void
test_shutdown_timeout(void **state)
{
	struct answer a;

	(void)state;
	start_pool("");
	/* A paused guest cannot answer a shutdown: destroyed after the timeout. */
	request("lab-01", VM_EV_PAUSE);
	{
		struct answer b = { false, XVDS_OK, "" };
		char	 msg[256];
		int	 i;

		assert_int_equal(vm_request("lab-01", VM_EV_SHUTDOWN, answered, &b,
		    msg, sizeof(msg)), XVDS_OK);
		for (i = 0; i < 30 && !b.done; i++) {
			struct timeval tv = { 0, 100000 };

			event_base_loopexit(T.base, &tv);
			event_base_dispatch(T.base);
		}
		a = b;
	}
	assert_true(a.done);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("lab-01"), VM_S_INACTIVE);
}

/*
 * A VM saved by another host (its image on the shared store, no record
 * here, as after a forget): defined here, it is Saved, and a restore
 * brings it up here.  Without an image, a define is Inactive as ever.
 */
static void
test_define_saved(void **state)
{
	char	 msg[256], image[512], record[512];
	struct answer a;

	(void)state;
	start_pool("");
	/* roam, a CVM outside the pools, saved here... */
	assert_int_equal(vm_define("roam", "desk", VM_CVM, msg, sizeof(msg)),
	    XVDS_OK);
	assert_int_equal(state_of("roam"), VM_S_INACTIVE);
	a = (struct answer){ false, XVDS_OK, "" };
	assert_int_equal(vm_request("roam", VM_EV_START, answered, &a, msg,
	    sizeof(msg)), XVDS_OK);
	RUN_UNTIL(view("roam").domid != XVDSD_NODOMAIN);
	guest_boots(view("roam").domid, BOOT_C, "10.77.0.23");
	RUN_UNTIL(a.done && has_clean("roam") && state_of("roam") == VM_S_READY);
	/* A forget keeps a VM with a domain, and the pools' own. */
	assert_int_equal(vm_forget("roam", msg, sizeof(msg)), XVDS_E_ILLEGAL);
	assert_int_equal(vm_forget("lab-01", msg, sizeof(msg)), XVDS_E_ILLEGAL);
	request("roam", VM_EV_PAUSE);
	request("roam", VM_EV_SAVE);
	snprintf(image, sizeof(image), "%s/store/saved/roam.img", T.dir);
	assert_int_equal(access(image, F_OK), 0);
	/* ...by "another host": this daemon forgets it (the controller's
	 * forget), its record goes, the image on the store stays. */
	snprintf(record, sizeof(record), "%s/state/vms/roam.json", T.dir);
	assert_int_equal(access(record, F_OK), 0);
	assert_int_equal(vm_forget("roam", msg, sizeof(msg)), XVDS_OK);
	assert_int_equal(vm_get("roam", &(struct vm_view){ 0 }), XVDS_E_NOVM);
	assert_int_equal(access(record, F_OK), -1);
	assert_int_equal(access(image, F_OK), 0);
	assert_true(has_clean("roam"));
	assert_int_equal(vm_forget("roam", msg, sizeof(msg)), XVDS_OK);
	/* Not back after a restart either. */
	vm_shutdown();
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	assert_int_equal(vm_get("roam", &(struct vm_view){ 0 }), XVDS_E_NOVM);
	/* Defined here now, it is Saved, and restores here. */
	assert_int_equal(vm_define("roam", "desk", VM_CVM, msg, sizeof(msg)),
	    XVDS_OK);
	assert_non_null(strstr(msg, "saved"));
	assert_int_equal(state_of("roam"), VM_S_SAVED);
	a = request("roam", VM_EV_RESTORE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(state_of("roam"), VM_S_READY);
	assert_true(view("roam").domid != XVDSD_NODOMAIN);
	assert_int_equal(access(image, F_OK), -1);	/* spent */
	/* Without an image a define is Inactive, as ever. */
	assert_int_equal(vm_define("fresh", "desk", VM_CVM, msg, sizeof(msg)),
	    XVDS_OK);
	assert_int_equal(state_of("fresh"), VM_S_INACTIVE);
}

static void
test_restart_adopts(void **state)
{
	uint32_t d1, d2;

	(void)state;
	start_pool("");
	request("lab-02", VM_EV_PAUSE);
	request("lab-01", VM_EV_SESSION_START);
	d1 = view("lab-01").domid;
	d2 = view("lab-02").domid;
	/* The daemon goes away; the guests stay. */
	vm_shutdown();
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	assert_int_equal(view("lab-01").domid, d1);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	assert_int_equal(view("lab-02").domid, d2);
	assert_int_equal(state_of("lab-02"), VM_S_PAUSED);
	/* Nothing was started twice. */
	{
		struct hv_domain *list;
		size_t	 n;

		assert_int_equal(hv_list_domains(T.hv, &list, &n), 0);
		assert_int_equal(n, 3);		/* dom0 and the two CVMs */
		free(list);
	}
	/* A guest that died while the daemon was away is reaped. */
	vm_shutdown();
	assert_int_equal(hv_sim_kill(T.hv, d2, HV_DEATH_POWEROFF), 0);
	RUN_UNTIL(domain_is(d2, HV_DOM_SHUTDOWN));
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	RUN_UNTIL(!domain_exists(d2));
	/* ...and, a pool CVM, started again once reaped. */
	RUN_UNTIL(state_of("lab-02") == VM_S_STARTING &&
	    view("lab-02").domid != XVDSD_NODOMAIN);
	guest_boots(view("lab-02").domid, BOOT_C, "10.77.0.22");
	assert_int_equal(state_of("lab-02"), VM_S_READY);
}

static void
test_set_resources(void **state)
{
	struct answer a = { false, XVDS_OK, "" };
	char	 msg[256];
	struct hv_domain d;

	(void)state;
	start_pool("");
	assert_int_equal(vm_set_resources("lab-01", 2, 200, answered, &a, msg,
	    sizeof(msg)), XVDS_OK);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(view("lab-01").vcpus, 2);
	assert_int_equal(view("lab-01").memory_mib, 200);
	assert_int_equal(hv_domain_info(T.hv, view("lab-01").domid, &d), 0);
	assert_int_equal(d.vcpus, 2);
	assert_int_equal(d.mem_kib, 200 * 1024);
	/* Beyond the template's maxima, or with no domain: refused at once. */
	assert_int_equal(vm_set_resources("lab-01", 3, 0, answered, &a, msg,
	    sizeof(msg)), XVDS_E_INVAL);
	assert_int_equal(vm_set_resources("lab-01", 0, 512, answered, &a, msg,
	    sizeof(msg)), XVDS_E_INVAL);
	request("lab-02", VM_EV_PAUSE);
	request("lab-02", VM_EV_SAVE);
	assert_int_equal(vm_set_resources("lab-02", 2, 0, answered, &a, msg,
	    sizeof(msg)), XVDS_E_ILLEGAL);
	/* A failure in the hypervisor is reported. */
	hv_sim_fail_next(T.hv, HV_SIM_OP_SET_VCPUS, HV_FAILED);
	a.done = false;
	assert_int_equal(vm_set_resources("lab-01", 1, 0, answered, &a, msg,
	    sizeof(msg)), XVDS_OK);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_E_FAILED);
}

/* The inode of a file, to tell a new one from an old one. */
static ino_t
inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void
test_disks_reset_to_golden(void **state)
{
	char	 golden[160], tmpl[400], disk[160], clone[160], cmd[400];
	ino_t	 first, first_clone;

	(void)state;
	snprintf(golden, sizeof(golden), "%s/golden.raw", T.dir);
	snprintf(cmd, sizeof(cmd), "truncate -s 16M '%s'", golden);
	assert_int_equal(system(cmd), 0);
	snprintf(tmpl, sizeof(tmpl), "	disk xvda golden \"%s\" overlay\n"
	    "	disk xvdb golden \"%s\" clone\n", golden, golden);
	T.tmpl_extra = tmpl;
	/* Some data in the golden image, the rest a hole. */
	snprintf(cmd, sizeof(cmd), "printf 'golden data' | dd of='%s' bs=1 seek=1000000 "
	    "conv=notrunc 2>/dev/null", golden);
	assert_int_equal(system(cmd), 0);
	start_pool("");
	/* And its clone: a whole copy, as sparse as the golden image. */
	snprintf(clone, sizeof(clone), "%s/store/vms/lab-01/xvdb.raw", T.dir);
	snprintf(cmd, sizeof(cmd), "cmp '%s' '%s'", golden, clone);
	assert_int_equal(system(cmd), 0);
	{
		struct stat st;

		assert_int_equal(stat(clone, &st), 0);
		assert_int_equal(st.st_size, 16 << 20);
		assert_true(st.st_blocks * 512 < 1 << 20);
	}
	/* Each CVM got its overlay over the golden image. */
	snprintf(disk, sizeof(disk), "%s/store/vms/lab-01/xvda.qcow2", T.dir);
	first = inode_of(disk);
	assert_true(first != 0);
	first_clone = inode_of(clone);
	/* Saved and restored: the same disk. */
	request("lab-01", VM_EV_PAUSE);
	request("lab-01", VM_EV_SAVE);
	request("lab-01", VM_EV_RESTORE);
	assert_int_equal(inode_of(disk), first);
	/* A session's end: a fresh overlay (back to golden) and a fresh boot. */
	request("lab-01", VM_EV_SESSION_START);
	{
		struct answer b = { false, XVDS_OK, "" };
		char	 msg[256];
		uint32_t old = view("lab-01").domid;

		assert_int_equal(vm_request("lab-01", VM_EV_SESSION_END, answered,
		    &b, msg, sizeof(msg)), XVDS_OK);
		RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN &&
		    view("lab-01").domid != old);
		guest_boots(view("lab-01").domid, BOOT_C, "10.77.0.21");
		RUN_UNTIL(b.done);
		assert_int_equal(b.err, XVDS_OK);
	}
	assert_true(inode_of(disk) != 0 && inode_of(disk) != first);
	/* The clone too, and still the golden image's content. */
	assert_true(inode_of(clone) != 0 && inode_of(clone) != first_clone);
	snprintf(cmd, sizeof(cmd), "cmp '%s' '%s'", golden, clone);
	assert_int_equal(system(cmd), 0);

	/* A golden image that is gone: the start fails, and says why. */
	vm_shutdown();
	hv_close(T.hv);		/* a new host, with no domains */
	T.hv = hv_open(T.base, &(struct hv_callbacks){ vm_domain_died, NULL });
	assert_non_null(T.hv);
	unlink(golden);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/state' '%s/store'", T.dir, T.dir);
	assert_int_equal(system(cmd), 0);
	write_conf("");
	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	RUN_UNTIL(state_of("lab-02") == VM_S_FAILED);
	assert_non_null(strstr(view("lab-02").last_error, "golden"));
}

/* Runs the loop for about ms milliseconds. */
static void
run_for(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(T.base, &tv);
	event_base_dispatch(T.base);
}

static void
test_guest_sessions(void **state)
{
	char	 msg[256];
	uint32_t domid;

	(void)state;
	start_pool("");
	domid = view("lab-01").domid;
	/* A guest that just booted has no session: nothing happens. */
	guest_session(domid, BOOT_A, 0, 0);
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	/* The user connects: running. */
	guest_session(domid, BOOT_A, 1, 1);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	/* A dropped connection, back within the grace time (1 s): kept. */
	guest_session(domid, BOOT_A, 2, 0);
	run_for(500);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	guest_session(domid, BOOT_A, 3, 1);
	run_for(800);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	assert_int_equal(view("lab-01").domid, domid);
	/* Gone for good: after the grace time, the session ends (a reset). */
	guest_session(domid, BOOT_A, 4, 0);
	RUN_UNTIL(state_of("lab-01") == VM_S_RESETTING);
	RUN_UNTIL(view("lab-01").domid != XVDSD_NODOMAIN &&
	    view("lab-01").domid != domid);

	/* A PVM that has just booted is not shut down for having no session. */
	assert_int_equal(vm_define("carol", "desk", VM_PVM, msg, sizeof(msg)),
	    XVDS_OK);
	{
		struct answer b = { false, XVDS_OK, "" };

		assert_int_equal(vm_request("carol", VM_EV_START, answered, &b,
		    msg, sizeof(msg)), XVDS_OK);
		RUN_UNTIL(view("carol").domid != XVDSD_NODOMAIN);
		guest_boots(view("carol").domid, BOOT_B, "10.77.0.32");
		RUN_UNTIL(b.done);
	}
	guest_session(view("carol").domid, BOOT_B, 0, 0);
	run_for(1300);
	assert_int_equal(state_of("carol"), VM_S_READY);
}

#define CRED_USER	"xvds-abcdefgh"
#define CRED_PASS	"ABCDEFGHJKLMNPQRSTUVWX2"

/* The guest in domain domid answers credential seq. */
static void
guest_answers(uint32_t domid, const char *boot_id, uint64_t seq, int applied)
{
	struct report_domain d;

	memset(&d, 0, sizeof(d));
	d.domid = domid;
	d.have_boot = true;
	snprintf(d.boot.boot_id, sizeof(d.boot.boot_id), "%s", boot_id);
	d.have_credential = true;
	snprintf(d.credential.boot_id, sizeof(d.credential.boot_id), "%s",
	    boot_id);
	d.credential.seq = seq;
	d.credential.applied = applied;
	fake_rw.cb(fake_rw.arg, REPORT_EV_CREDENTIAL, REPORT_KEY_CREDENTIAL, &d,
	    NULL);
}

/* Hands CRED_* to a VM; checks the key the guest would read; its seq. */
static uint64_t
deliver(const char *name, struct answer *a)
{
	struct report_secret rec;
	char	 msg[256], err[REPORT_ERR_MAX];
	unsigned puts = secret.puts;

	memset(a, 0, sizeof(*a));
	assert_int_equal(vm_credential(name, CRED_USER, CRED_PASS, answered, a,
	    msg, sizeof(msg)), XVDS_OK);
	assert_false(a->done);
	assert_int_equal(secret.puts, puts + 1);
	assert_true(secret.present);
	assert_int_equal(secret.domid, view(name).domid);
	assert_int_equal(report_secret_parse(secret.val, strlen(secret.val), &rec,
	    err, sizeof(err)), 0);
	assert_string_equal(rec.user, CRED_USER);
	assert_string_equal(rec.password, CRED_PASS);
	assert_true(rec.seq > 0);
	return rec.seq;
}

/*
 * One-time credentials into the guest (hostd/vm_cred.c): applied, failed,
 * unanswered, refused, cut short; the key never outlives the delivery.
 */
static void
test_credential(void **state)
{
	struct answer a, b;
	char	 msg[256];
	uint64_t seq, seq2;
	uint32_t domid;

	(void)state;
	memset(&secret, 0, sizeof(secret));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	start_pool("");
	domid = view("lab-01").domid;

	/* Applied: ok, and the key is gone. */
	seq = deliver("lab-01", &a);
	/* One at a time per VM; another VM may take its own. */
	assert_int_equal(vm_credential("lab-01", CRED_USER, CRED_PASS, answered,
	    &b, msg, sizeof(msg)), XVDS_E_BUSY);
	/* Another boot's answer, or another delivery's, is not this one's. */
	guest_answers(domid, BOOT_A, seq + 1, 1);
	run_for(50);
	assert_false(a.done);
	assert_true(secret.present);
	guest_answers(domid, BOOT_A, seq, 1);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_OK);
	assert_false(secret.present);
	assert_null(strstr(a.msg, CRED_PASS));

	/* The guest could not: guest-failed, key gone. */
	seq2 = deliver("lab-01", &a);
	assert_true(seq2 > seq);
	guest_answers(domid, BOOT_A, seq2, 0);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_E_GUEST_FAILED);
	assert_false(secret.present);
	/* An answer that comes late changes nothing. */
	guest_answers(domid, BOOT_A, seq2, 1);
	run_for(20);

	/* Silent: guest-timeout after credential-timeout (1 s), key gone. */
	deliver("lab-01", &a);
	run_for(600);
	assert_false(a.done);
	assert_true(secret.present);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_E_GUEST_TIMEOUT);
	assert_false(secret.present);
	assert_int_equal(state_of("lab-01"), VM_S_READY);

	/* Running (a session on) takes one too. */
	guest_session(domid, BOOT_A, 1, 1);
	assert_int_equal(state_of("lab-01"), VM_S_RUNNING);
	seq = deliver("lab-01", &a);
	guest_answers(domid, BOOT_A, seq, 1);
	RUN_UNTIL(a.done);
	assert_int_equal(a.err, XVDS_OK);

	/* Refusals, at once, with nothing written. */
	secret.puts = 0;
	assert_int_equal(vm_credential("nosuch", CRED_USER, CRED_PASS, answered,
	    &b, msg, sizeof(msg)), XVDS_E_NOVM);
	assert_int_equal(vm_credential("lab-01", "root", CRED_PASS, answered,
	    &b, msg, sizeof(msg)), XVDS_E_INVAL);
	assert_int_equal(vm_credential("lab-01", CRED_USER, "SECRET:x", answered,
	    &b, msg, sizeof(msg)), XVDS_E_INVAL);
	assert_null(strstr(msg, "SECRET"));
	a = request("lab-02", VM_EV_PAUSE);
	assert_int_equal(a.err, XVDS_OK);
	assert_int_equal(vm_credential("lab-02", CRED_USER, CRED_PASS, answered,
	    &b, msg, sizeof(msg)), XVDS_E_ILLEGAL);
	assert_non_null(strstr(msg, "paused"));
	assert_int_equal(secret.puts, 0);
	run_for(20);
	assert_false(b.done);	/* refused requests are never answered */
	/* xenstore refuses the write: failed, and nothing left behind. */
	secret.fail_put = true;
	assert_int_equal(vm_credential("lab-01", CRED_USER, CRED_PASS, answered,
	    &b, msg, sizeof(msg)), XVDS_E_FAILED);
	secret.fail_put = false;
	assert_false(secret.present);

	/* The VM leaves running mid-delivery (its session ends): failed. */
	deliver("lab-01", &a);
	b = request("lab-01", VM_EV_SESSION_END);
	assert_int_equal(b.err, XVDS_OK);
	assert_true(a.done);
	assert_int_equal(a.err, XVDS_E_FAILED);
	assert_non_null(strstr(a.msg, "resetting"));
	assert_false(secret.present);

	/* xvdsd stops mid-delivery: answered, and the key removed. */
	a = request("lab-02", VM_EV_UNPAUSE);
	assert_int_equal(a.err, XVDS_OK);
	deliver("lab-02", &b);
	vm_shutdown();
	assert_true(b.done);
	assert_int_equal(b.err, XVDS_E_FAILED);
	assert_false(secret.present);
}

/*
 * The daemon died in the middle of a save: its record says saving, the
 * guest is suspended, half an image lies on the store.  Restarted, it
 * resumes the guest (nothing lost) and throws the half image away.
 */
static void
test_restart_after_save_cut_short(void **state)
{
	char	 path[200], cmd[400];
	uint32_t domid;
	struct hv_domain d;
	FILE	*f;

	(void)state;
	start_pool("");
	request("lab-01", VM_EV_PAUSE);
	domid = view("lab-01").domid;
	vm_shutdown();
	snprintf(cmd, sizeof(cmd), "sed -i 's/\"state\":\"paused\"/\"state\":"
	    "\"saving\"/' '%s/state/vms/lab-01.json'", T.dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "grep -q '\"state\":\"saving\"' "
	    "'%s/state/vms/lab-01.json'", T.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(hv_sim_kill(T.hv, domid, HV_DEATH_SUSPEND), 0);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/store/saved'", T.dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/store/saved/lab-01.img.partial", T.dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("half an image", f);
	fclose(f);

	assert_int_equal(vm_init(T.base, T.hv, load_conf()), 0);
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	assert_int_equal(view("lab-01").domid, domid);
	assert_int_equal(hv_domain_info(T.hv, domid, &d), 0);
	assert_int_not_equal(d.state, HV_DOM_SHUTDOWN);
	assert_int_equal(access(path, F_OK), -1);
	/* And it goes on working: a save now completes. */
	request("lab-01", VM_EV_PAUSE);
	assert_int_equal(request("lab-01", VM_EV_SAVE).err, XVDS_OK);
}

static void
test_idle_timers(void **state)
{
	int	 i;

	(void)state;
	/* Two CVMs, one kept ready: the other is paused after 1 s, saved after 1 s more. */
	start_pool("	ready 1\n	idle-pause 1s\n	idle-save 1s\n");
	for (i = 0; i < 40; i++) {
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(T.base, &tv);
		event_base_dispatch(T.base);
		if (state_of("lab-01") == VM_S_SAVED || state_of("lab-02") == VM_S_SAVED)
			break;
	}
	/* Exactly one went idle; the warm buffer stayed ready. */
	assert_true((state_of("lab-01") == VM_S_SAVED) !=
	    (state_of("lab-02") == VM_S_SAVED));
	assert_true(state_of("lab-01") == VM_S_READY ||
	    state_of("lab-02") == VM_S_READY);
}

/* With a controller block the controller decides idle: no timer here. */
static void
test_idle_is_the_controllers(void **state)
{
	int	 i;

	(void)state;
	/* The pool's block ends early; the controller's takes its brace. */
	start_pool("	idle-pause 1s\n	idle-save 1s\n}\n"
	    "controller {\n	address 127.0.0.1\n");
	for (i = 0; i < 20; i++) {
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(T.base, &tv);
		event_base_dispatch(T.base);
	}
	assert_int_equal(state_of("lab-01"), VM_S_READY);
	assert_int_equal(state_of("lab-02"), VM_S_READY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cvm_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cold_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_image_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clean_image_restored_again, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_while_starting, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pvm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_define_saved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_adopts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disks_reset_to_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_after_save_cut_short,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_is_the_controllers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_credential, setup, teardown),
	};

	return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/main.c — the XVDS host daemon: one per Xen host (dom0).  It owns the
 * libxl context, runs every guest of this host through the CVM and PVM
 * state machines, samples the host, and answers on a local control
 * socket.  See xvdsd(8).
 *
 * Built a second time as xvdsd-sim (XVDSD_SIMULATED): the same daemon on
 * the simulated hypervisor with simulated guest agents, for tests and
 * benchmarks only; it never drives Xen.
 */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "hostd/agent_link.h"
#include "common/conf.h"
#include "hostd/control.h"
#include "common/daemon.h"
#include "hostd/host.h"
#include "hv/hv.h"
#include "common/log.h"
#include "hostd/migrate.h"
#ifdef XVDSD_SIMULATED
#include "hvsim/sim.h"
#include "hvsim/report.h"
#endif
#include "hostd/vm.h"
#include "common/wipe.h"

#define STOP_WAIT	30	/* seconds to let actions under way finish */

static struct {
	struct event_base *base;
	const char	*conf_path;
	struct xvds_conf *conf;		/* owned by hostd/vm.c once started */
	struct hv	*hv;
	bool		 stopping;
	struct event	*stop_timer;
} xvdsd_state;

/*
 * One xvdsd per host: a lock in the state directory, taken before
 * anything looks at the domains, held until exit.
 */
static void
take_lock(const char *state_dir)
{
	char	 path[512], pid[32];
	int	 fd, n;

	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST)
		fatal("%s", state_dir);
	snprintf(path, sizeof(path), "%s/xvdsd.lock", state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fatalx("another xvdsd is running (pid %s; lock %s)",
		    pid[0] ? pid : "unknown", path);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s", path);
	/* fd stays open: the lock lasts as long as the process. */
}

static void
reload(void)
{
	struct xvds_conf *next;
	const struct conf_settings *s;
	char	 err[CONF_ERR_MAX];

	if ((next = conf_load(xvdsd_state.conf_path, err,
	    sizeof(err))) == NULL) {
		log_warnx("reload refused, configuration unchanged: %s", err);
		return;
	}
	if (conf_reload_check(xvdsd_state.conf, next, err, sizeof(err)) == -1) {
		log_warnx("reload refused, configuration unchanged: %s (restart "
		    "xvdsd to change it)", err);
		conf_free(next);
		return;
	}
	s = conf_settings(next);
	/* The one part that may still fail: it keeps its old link if so. */
	if (agent_link_reload(s) == -1) {
		log_warnx("reload refused, configuration unchanged: the "
		    "controller block cannot be used");
		conf_free(next);
		return;
	}
	host_reload(s->sample_interval, s->sample_window);
	migrate_reload(s);
	vm_reload(next);	/* frees the old one */
	xvdsd_state.conf = next;
	log_info("configuration reloaded from %s", xvdsd_state.conf_path);
}

static void
stop_check(evutil_socket_t fd, short what, void *arg)
{
	static unsigned waited;
	struct timeval tv = { 1, 0 };

	(void)fd;
	(void)what;
	(void)arg;
	if (!vm_busy() || waited++ >= STOP_WAIT) {
		if (vm_busy())
			log_warnx("stopping with actions still under way");
		event_base_loopexit(xvdsd_state.base, NULL);
		return;
	}
	evtimer_add(xvdsd_state.stop_timer, &tv);
}

static void
on_reload(void *arg)
{
	(void)arg;
	reload();
}

static void
on_stop(const char *signame, void *arg)
{
	(void)signame;
	(void)arg;
	if (xvdsd_state.stopping)
		return;
	xvdsd_state.stopping = true;
	log_info("guests are left running");
	/* No new requests; let the actions under way end. */
	control_close();
	/* The controller sees the host go; it reconciles on return. */
	agent_link_shutdown();
	stop_check(-1, 0, NULL);
}

int
main(int argc, char *argv[])
{
	static const struct daemon_signal_cbs sigcbs = { on_reload, on_stop };
	struct event *sigs[3];
	struct event_config *cfg;
	const struct conf_settings *s;
	struct hv_callbacks cbs = { vm_domain_died, NULL };
	struct daemon_opts o;
	char	 err[CONF_ERR_MAX];

	/* Before libevent or jansson allocates: credentials pass through both. */
	wipe_init();
	daemon_options(argc, argv, "xvdsd", CONF_PATH, &o);
	xvdsd_state.conf_path = o.conf_path;

	if ((xvdsd_state.conf = conf_load(xvdsd_state.conf_path, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (o.checkonly) {
		if (o.verbose && conf_print(xvdsd_state.conf, stdout) == -1)
			fatal("stdout");
		fprintf(stderr, "configuration OK\n");
		conf_free(xvdsd_state.conf);
		return 0;
	}
#ifndef XVDSD_SIMULATED
	if (geteuid() != 0)
		fatalx("need root privileges (libxl and xenstore)");
#endif
	s = conf_settings(xvdsd_state.conf);

	if (!o.foreground && daemon(0, 0) == -1)
		fatal("daemon");
	/*
	 * libxl asks to poll the save and restore images, regular files,
	 * which epoll refuses (EPERM): poll(2) takes any fd, and xvdsd has
	 * few enough of them.
	 */
	if ((cfg = event_config_new()) == NULL ||
	    event_config_avoid_method(cfg, "epoll") == -1 ||
	    (xvdsd_state.base = event_base_new_with_config(cfg)) == NULL)
		fatalx("cannot make the event loop");
	event_config_free(cfg);
	log_debug("event loop: %s", event_base_get_method(xvdsd_state.base));
	daemon_signals(xvdsd_state.base, &sigcbs, NULL, sigs);
	if ((xvdsd_state.stop_timer = evtimer_new(xvdsd_state.base, stop_check,
	    NULL)) == NULL)
		fatalx("cannot make a timer");

	take_lock(s->state_dir);
	if ((xvdsd_state.hv = hv_open(xvdsd_state.base, &cbs)) == NULL)
		fatalx("cannot reach the hypervisor");
#ifdef XVDSD_SIMULATED
	log_warnx("SIMULATED hypervisor and guests: for tests and benchmarks only");
	reportsim_init(xvdsd_state.base);
	/* Tests make a host busy: dom0 keeps this many CPUs busy. */
	if (getenv("XVDSD_SIM_DOM0_LOAD") != NULL &&
	    hv_sim_set_load(xvdsd_state.hv, 0,
	    atof(getenv("XVDSD_SIM_DOM0_LOAD"))) == -1)
		fatalx("XVDSD_SIM_DOM0_LOAD: not a number of CPUs");
#endif
	if (vm_init(xvdsd_state.base, xvdsd_state.hv, xvdsd_state.conf) == -1)
		fatalx("cannot start the VMs");
	if (host_init(xvdsd_state.base, xvdsd_state.hv, s->sample_interval,
	    s->sample_window) == -1)
		fatalx("cannot start sampling");
	if (migrate_init(xvdsd_state.base, xvdsd_state.hv, s,
	    &vm_migrate_incoming) == -1)
		fatalx("cannot receive migrations on %s port %u",
		    s->migration_listen, (unsigned)s->migration_port);
	/* Last: whoever connects finds the VMs reconciled. */
	if (control_init(xvdsd_state.base, s->control_socket) == -1)
		fatalx("cannot open the control socket %s", s->control_socket);
	vm_set_change_hook(agent_link_vm_changed, NULL);
	if (agent_link_init(xvdsd_state.base, s) == -1)
		fatalx("cannot link to the controller (see above)");
	log_info("started, configuration %s", xvdsd_state.conf_path);

	event_base_dispatch(xvdsd_state.base);

	agent_link_shutdown();
	vm_set_change_hook(NULL, NULL);
	host_shutdown();
	migrate_shutdown();
	vm_shutdown();		/* frees the configuration */
	hv_close(xvdsd_state.hv);
	daemon_signals_free(sigs);
	event_free(xvdsd_state.stop_timer);
	event_base_free(xvdsd_state.base);
	log_info("stopped");
	return 0;
}

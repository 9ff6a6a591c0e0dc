/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_agent.c — fake-agent, a host's xvdsd as far as the controller's
 * tests need one (tests/ctrl/failover.test): it connects over mutual TLS,
 * says hello, and after every welcome reports the VM states it was given
 * and one sample, answering ops with success.  It reconnects quickly by
 * itself (agent/tls.h's client), so that a test sees when a controller
 * takes over.  Not a simulator: nothing runs behind it.
 *
 * stdout, one line each: "welcome MS" (ms since the epoch), "refused CODE",
 * "op ID ACTION VM".  Its sample names the -s VMs that have a domid, with
 * the CPU given (100 a busy CPU of its 4; 0 unless given) and 2048 MiB.
 * With -s's sixth field the VM reports that SHA-256 as its RDP
 * certificate's.  With -x, a credential op runs that command (no shell)
 * with "user:password" on its stdin, as xvds-guestd runs apply-credential
 * (xvds-guestd(8)), and succeeds if it exits 0: a test's real RDP server
 * then takes the one-time credential.
 * With -F every op fails (a broken host); with -R the
 * states end with "resynced", as xvdsd's do, and the controller takes the
 * VMs it placed on this host and that were not given (-s) for gone.
 * Exit 0 after -n welcomes, 3 when refused, 1 when -t seconds pass first.
 */
#include <config.h>

#include <sys/time.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent_fake.h"
#include "agent/tls.h"
#include "common/vm_fsm.h"

#define STATES_MAX	16

static struct {
	struct event_base *base;
	struct agent_client *cli;
	const char	*name;		/* the certificate's, its CN */
	const char	*hello_host;
	int		 want, welcomes, rc;
	int		 fail_ops;	/* -F */
	int		 resync;	/* -R */
	const char	*apply;		/* -x */
	int		 nstates;
	struct agent_state states[STATES_MAX];
	double		 cpu[STATES_MAX];
} F;

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: fake-agent -p port -d pki-dir -c cert-name "
	    "[-FR] [-H hello-host] [-n welcomes] [-t seconds] "
	    "[-x command] [-s vm:state[:domid[:cpu[:address[:sha256]]]]]...\n");
	exit(2);
}

static long long
epoch_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
send_or_die(struct agent_conn *c, struct agent_msg *m)
{
	if (agent_conn_send(c, m) == -1) {
		fprintf(stderr, "fake-agent: cannot send\n");
		exit(1);
	}
}

/* -x's command, "user:password" on its stdin: 0 if it exits 0. */
static int
apply_credential(const struct agent_op *op)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	char	*argv[] = { (char *)F.apply, NULL }, line[256];
	pid_t	 pid;
	int	 p[2], ws = 0, n, spawned, written = 0;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	spawned = posix_spawn(&pid, F.apply, &fa, NULL, argv, environ) == 0;
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (spawned) {
		n = snprintf(line, sizeof(line), "%s:%s\n", op->user,
		    op->password);
		written = write(p[1], line, (size_t)n) == n;
		explicit_bzero(line, sizeof(line));
	}
	close(p[1]);
	if (!spawned || waitpid(pid, &ws, 0) == -1)
		return -1;
	return written && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static void
on_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct agent_msg m;

	(void)id;
	(void)arg;
	fake_hello(&m, F.hello_host != NULL ? F.hello_host : F.name, 4, 8192);
	send_or_die(c, &m);
}

static void
on_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct agent_msg m;
	int	 i, failed;

	(void)arg;
	switch (in->type) {
	case AGENT_M_WELCOME:
		printf("welcome %lld\n", epoch_ms());
		for (i = 0; i < F.nstates; i++) {
			memset(&m, 0, sizeof(m));
			m.type = AGENT_M_STATE;
			m.u.state = F.states[i];
			send_or_die(c, &m);
		}
		if (F.resync) {
			fake_resynced(&m, (uint32_t)F.nstates);
			send_or_die(c, &m);
		}
		fake_sample(&m, (unsigned)F.nstates, 400, 8192, 4096);
		if ((m.u.sample.vms = calloc(STATES_MAX,
		    sizeof(*m.u.sample.vms))) == NULL)
			exit(1);
		for (i = 0; i < F.nstates; i++) {
			struct agent_vm_sample *v;

			if (F.states[i].domid == AGENT_NODOMAIN)
				continue;
			v = &m.u.sample.vms[m.u.sample.nvms++];
			memcpy(v->vm, F.states[i].vm, sizeof(v->vm));
			v->cpu_pct = F.cpu[i];
			v->memory_mib = 2048;
		}
		send_or_die(c, &m);
		agent_msg_clear(&m);
		if (++F.welcomes == F.want) {
			F.rc = 0;
			/* Let what was queued go out first. */
			agent_conn_close(c, "done");
		}
		break;
	case AGENT_M_RESULT:
		printf("refused %s\n", in->u.result.code);
		F.rc = 3;
		event_base_loopexit(F.base, NULL);
		break;
	case AGENT_M_OP:
		printf("op %lld %s %s\n", (long long)in->u.op.id,
		    agent_action_names[in->u.op.action], in->u.op.vm);
		failed = F.fail_ops || (F.apply != NULL &&
		    in->u.op.action == AGENT_A_CREDENTIAL &&
		    apply_credential(&in->u.op) == -1);
		fake_result(&m, in->u.op.id, !failed);
		if (failed) {
			snprintf(m.u.result.code, sizeof(m.u.result.code),
			    "failed");
			snprintf(m.u.result.message, sizeof(m.u.result.message),
			    "fake-agent -F or -x failed the op");
		}
		send_or_die(c, &m);
		break;
	case AGENT_M_PING:
		fake_pong(&m, in->u.seq);
		send_or_die(c, &m);
		break;
	default:
		break;
	}
}

static void
on_closed(struct agent_conn *c, const char *why, void *arg)
{
	(void)c;
	(void)arg;
	if (F.rc == 0 && F.welcomes == F.want)
		event_base_loopexit(F.base, NULL);
	else
		fprintf(stderr, "fake-agent: closed: %s\n", why);
}

static const struct agent_tls_cbs cbs = {
	on_connected, on_message, on_closed, NULL,
};

static void
parse_state(const char *arg)
{
	struct agent_state *s;
	char	 buf[192], *st, *domid, *cpu = NULL, *addr = NULL, *sha = NULL;
	int	 i;

	if (F.nstates == STATES_MAX)
		usage();
	s = &F.states[F.nstates++];
	memset(s, 0, sizeof(*s));
	snprintf(buf, sizeof(buf), "%s", arg);
	if ((st = strchr(buf, ':')) == NULL)
		usage();
	*st++ = '\0';
	if ((domid = strchr(st, ':')) != NULL) {
		*domid++ = '\0';
		if ((cpu = strchr(domid, ':')) != NULL) {
			*cpu++ = '\0';
			if ((addr = strchr(cpu, ':')) != NULL)
				*addr++ = '\0';
			if (addr != NULL && (sha = strchr(addr, ':')) != NULL)
				*sha++ = '\0';
		}
	}
	if (strlen(buf) >= sizeof(s->vm) || (addr != NULL &&
	    strlen(addr) >= sizeof(s->addr)) || (sha != NULL &&
	    strlen(sha) >= sizeof(s->rdp_sha256)))
		usage();
	if (sha != NULL)
		memcpy(s->rdp_sha256, sha, strlen(sha) + 1);
	if (addr != NULL)
		memcpy(s->addr, addr, strlen(addr) + 1);
	memcpy(s->vm, buf, strlen(buf) + 1);
	for (i = 0; i < VM_S__COUNT; i++)
		if (strcmp(vm_state_names[i], st) == 0)
			break;
	if (i == VM_S__COUNT)
		usage();
	s->state = (enum vm_state)i;
	s->domid = domid != NULL ? (uint32_t)strtoul(domid, NULL, 10) :
	    AGENT_NODOMAIN;
	F.cpu[F.nstates - 1] = cpu != NULL ? strtod(cpu, NULL) : 0;
	if (F.cpu[F.nstates - 1] < 0 || F.cpu[F.nstates - 1] > 400)
		usage();
}

int
main(int argc, char *argv[])
{
	struct agent_tls_conf tls;
	struct timeval tv = { 10, 0 };
	char	 ca[512], cert[512], key[512];
	const char *dir = NULL, *name = NULL;
	int	 ch, port = 0;

	F.want = 1;
	while ((ch = getopt(argc, argv, "c:d:FH:n:p:Rs:t:x:")) != -1) {
		switch (ch) {
		case 'F':
			F.fail_ops = 1;
			break;
		case 'c':
			F.name = name = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'H':
			F.hello_host = optarg;
			break;
		case 'n':
			F.want = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'R':
			F.resync = 1;
			break;
		case 's':
			parse_state(optarg);
			break;
		case 't':
			tv.tv_sec = atoi(optarg);
			break;
		case 'x':
			F.apply = optarg;
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || name == NULL || port <= 0 || port > 65535 ||
	    F.want < 1 || optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = ca;
	tls.cert_file = cert;
	tls.key_file = key;
	tls.server_name = "127.0.0.1";
	/* Quick retries: the test measures the controller, not the back-off. */
	tls.backoff_min_ms = 100;
	tls.backoff_max_ms = 200;
	F.rc = 1;
	if ((F.base = event_base_new()) == NULL)
		return 1;
	if ((F.cli = agent_client_new(F.base, &tls, "127.0.0.1", (uint16_t)port,
	    &cbs, NULL)) == NULL)
		return 1;
	event_base_loopexit(F.base, &tv);
	event_base_dispatch(F.base);
	if (F.rc == 1)
		fprintf(stderr, "fake-agent: %d welcome(s) of %d in %ld s\n",
		    F.welcomes, F.want, (long)tv.tv_sec);
	agent_client_free(F.cli);
	event_base_free(F.base);
	return F.rc;
}

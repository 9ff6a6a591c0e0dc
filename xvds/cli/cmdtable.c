/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cmdtable.c — xvdsctl's commands, as xl's xl_cmdtable.c lists its
 * own: name, function, usage, help; the cluster's are the rows of
 * cli/cluster_table.c.  `xvdsctl help` prints both tables; xvdsctl(8)
 * says the same at length.
 */
#include <config.h>

#include <stddef.h>

#include "cli/db.h"
#include "cli/xvdsctl.h"

#define NOEV	VM_EV__COUNT

/* xvdsd's (xvds-control(7)) and the database's. */
static const struct ctl_cmd local_cmds[] = {
	{ "host", "info", ctl_host_info, NOEV, "[--json]",
	  "Show this host's figures: running VMs, CPU and memory." },
	{ "vm", "list", ctl_vm_list, NOEV, "[--json]",
	  "List the VMs of this host." },
	{ "vm", "show", ctl_vm_show, NOEV, "NAME [--json]",
	  "Show one VM." },
	{ "vm", "create", ctl_vm_create, NOEV, "NAME TEMPLATE [--pvm]",
	  "Define a VM outside the pools from a template (a CVM unless --pvm)." },
	{ "vm", "undefine", ctl_vm_undefine, NOEV, "NAME",
	  "Forget a VM that has no domain and no saved image." },
	{ "vm", "start", ctl_vm_action, VM_EV_START, "NAME",
	  "Create the VM's domain and wait until the guest has booted." },
	{ "vm", "pause", ctl_vm_action, VM_EV_PAUSE, "NAME",
	  "Pause a ready CVM." },
	{ "vm", "unpause", ctl_vm_action, VM_EV_UNPAUSE, "NAME",
	  "Unpause a paused CVM." },
	{ "vm", "save", ctl_vm_action, VM_EV_SAVE, "NAME",
	  "Save a CVM to the shared store; its domain goes away." },
	{ "vm", "restore", ctl_vm_action, VM_EV_RESTORE, "NAME",
	  "Restore a saved CVM from the shared store." },
	{ "vm", "reset", ctl_vm_action, VM_EV_RESET, "NAME",
	  "Reset the VM to its golden image." },
	{ "vm", "shutdown", ctl_vm_action, VM_EV_SHUTDOWN, "NAME",
	  "Shut the guest down cleanly (destroyed after a timeout)." },
	{ "vm", "destroy", ctl_vm_action, VM_EV_DESTROY, "NAME",
	  "Destroy the domain now and discard a saved image." },
	{ "vm", "session-start", ctl_vm_action, VM_EV_SESSION_START, "NAME",
	  "Tell xvdsd a session formed (for tests; the controller's hook)." },
	{ "vm", "session-end", ctl_vm_action, VM_EV_SESSION_END, "NAME",
	  "Tell xvdsd the session ended (for tests; the controller's hook)." },
	{ "vm", "set", ctl_vm_set, NOEV, "NAME [--vcpus N] [--memory MIB]",
	  "Change the online vCPUs and/or the memory of a VM with a domain." },
	{ "vm", "migrate", ctl_vm_migrate, NOEV, "NAME HOST[:PORT] [--non-live]",
	  "Migrate the VM to the xvdsd on HOST, live unless told." },
	{ "vm", "credential", ctl_vm_credential, NOEV, "NAME USER < PASSWORD",
	  "Hand a one-time RDP credential (password on stdin) to the guest." },
	{ "db", "upgrade", ctl_db_upgrade_cmd, NOEV, "[-n] [-d CONNINFO]",
	  "Bring the controller's database to this build's schema." },
};

const struct ctl_cmd *
ctl_cmd_nth(size_t i)
{
	const size_t nlocal = sizeof(local_cmds) / sizeof(local_cmds[0]);

	if (i < nlocal)
		return &local_cmds[i];
	i -= nlocal;
	return i < ctl_cluster_nforms ? &ctl_cluster_forms[i].cmd : NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/vm_sql.h — the VM states as SQL literals of the type
 * vm_state (xvds-schema(7)), for the controller's statements to be
 * written with; the one place in controller/ that spells a state.
 * Derived from vm_state_names[] in common/vm_fsm.c, which
 * tests/unit/test_vm_fsm.c checks each against.  Which state an op marks
 * is never written here: common/vm_fsm.c's tables say (vm_fsm_op_marks()).
 */
#ifndef XVDS_CONTROLLER_VM_SQL_H
#define XVDS_CONTROLLER_VM_SQL_H

#define CTRL_VM_SQL_INACTIVE	"'inactive'"
#define CTRL_VM_SQL_STARTING	"'starting'"
#define CTRL_VM_SQL_READY	"'ready'"
#define CTRL_VM_SQL_RUNNING	"'running'"
#define CTRL_VM_SQL_PAUSING	"'pausing'"
#define CTRL_VM_SQL_PAUSED	"'paused'"
#define CTRL_VM_SQL_UNPAUSING	"'unpausing'"
#define CTRL_VM_SQL_SAVING	"'saving'"
#define CTRL_VM_SQL_SAVED	"'saved'"
#define CTRL_VM_SQL_RESTORING	"'restoring'"
#define CTRL_VM_SQL_RESETTING	"'resetting'"
#define CTRL_VM_SQL_SNAPSHOTTING "'snapshotting'"
#define CTRL_VM_SQL_STOPPING	"'stopping'"
#define CTRL_VM_SQL_MIGRATING	"'migrating'"
#define CTRL_VM_SQL_INCOMING	"'incoming'"
#define CTRL_VM_SQL_FAILED	"'failed'"

#endif

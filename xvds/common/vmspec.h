/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/vmspec.h — one domain as XVDS asks the hypervisor for it: the result
 * of instantiating an operator's template for one VM (common/template.c), and
 * what the hypervisor seam (hv/hv.h) turns into a libxl domain config.  Plain
 * data, backend-neutral, bounded: every string has a fixed maximum that
 * the config parser enforces with a clear error.
 */
#ifndef XVDS_COMMON_VMSPEC_H
#define XVDS_COMMON_VMSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSPEC_NAME_MAX		63	/* [A-Za-z0-9_.-], first a letter or digit */
#define VMSPEC_PATH_MAX		255	/* absolute paths */
#define VMSPEC_CMDLINE_MAX	1023
#define VMSPEC_VDEV_MAX		15	/* "xvda" */
#define VMSPEC_BRIDGE_MAX	15	/* a Linux interface name */
#define VMSPEC_DISKS_MAX	4
#define VMSPEC_NICS_MAX		4
#define VMSPEC_VCPUS_MAX	128

enum vm_type {
	VM_TYPE_PV,
	VM_TYPE_PVH,
	VM_TYPE_HVM,
};

enum vm_disk_format {
	VM_DISK_RAW,
	VM_DISK_QCOW2,
};

enum vm_disk_backend {
	VM_DISK_PHY,		/* blkback in dom0's kernel (raw only) */
	VM_DISK_QDISK,		/* QEMU in dom0 (raw or qcow2) */
};

struct vm_disk {
	char		 vdev[VMSPEC_VDEV_MAX + 1];
	char		 path[VMSPEC_PATH_MAX + 1];
	enum vm_disk_format format;
	enum vm_disk_backend backend;
	bool		 readonly;
};

struct vm_nic {
	char		 mac[18];	/* "00:16:3e:xx:xx:xx" */
	char		 bridge[VMSPEC_BRIDGE_MAX + 1];
};

struct vm_spec {
	char		 name[VMSPEC_NAME_MAX + 1];
	enum vm_type	 type;
	unsigned	 vcpus;		/* online at start */
	unsigned	 max_vcpus;	/* the most the operator may set later */
	uint64_t	 memory_mib;
	uint64_t	 max_memory_mib;
	/* Direct kernel boot (kernel set) or a bootloader (PV: pygrub). */
	char		 kernel[VMSPEC_PATH_MAX + 1];
	char		 ramdisk[VMSPEC_PATH_MAX + 1];
	char		 cmdline[VMSPEC_CMDLINE_MAX + 1];
	char		 bootloader[VMSPEC_PATH_MAX + 1];
	size_t		 ndisks;
	struct vm_disk	 disks[VMSPEC_DISKS_MAX];
	size_t		 nnics;
	struct vm_nic	 nics[VMSPEC_NICS_MAX];
};

extern const char *const vm_type_names[];

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/template.h — an operator's VM template (a "template" block of
 * xvds.conf(5), filled and checked by common/conf.c) and its instantiation into
 * one VM of a pool: the struct vm_spec of common/vmspec.h that the hypervisor
 * seam turns into a libxl domain config.
 *
 * Where a VM's own disks live on the shared store (xvds.conf(5), "DISKS"):
 *
 *   <store>/vms/<vmname>/<vdev>.qcow2   overlay: qcow2 over the golden image
 *   <store>/vms/<vmname>/<vdev>.raw     clone: a raw copy of the golden image
 *
 * common/template.c only computes names; creating, resetting and deleting those
 * files is the daemon's business (it asks template_disk_golden() for the
 * image to make them from).
 */
#ifndef XVDS_COMMON_TEMPLATE_H
#define XVDS_COMMON_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vmspec.h"

#define TEMPLATE_NAME_MAX	31	/* templates and pools: [A-Za-z][A-Za-z0-9_-]* */
#define TEMPLATE_MAC_STRLEN	18	/* "00:16:3e:xx:xx:xx" and a NUL */

enum template_disk_mode {
	TEMPLATE_DISK_IMAGE,	/* an image used as it is, by every VM */
	TEMPLATE_DISK_OVERLAY,	/* per VM: qcow2 over the golden image (qdisk) */
	TEMPLATE_DISK_CLONE,	/* per VM: raw copy of the golden image (blkback) */
};

struct template_disk {
	char		 vdev[VMSPEC_VDEV_MAX + 1];	/* "xvda" ... "xvdz" */
	enum template_disk_mode mode;
	/* The golden image (overlay, clone) or the image itself: raw. */
	char		 path[VMSPEC_PATH_MAX + 1];
	bool		 readonly;			/* images only */
};

struct template_nic {
	char		 bridge[VMSPEC_BRIDGE_MAX + 1];
};

/* Named conf_ because it is the configuration's own word for a VM. */
struct conf_template {
	char		 name[TEMPLATE_NAME_MAX + 1];
	enum vm_type	 type;
	unsigned	 vcpus;
	unsigned	 max_vcpus;
	uint64_t	 memory_mib;
	uint64_t	 max_memory_mib;
	char		 kernel[VMSPEC_PATH_MAX + 1];		/* "" if none */
	char		 ramdisk[VMSPEC_PATH_MAX + 1];
	char		 cmdline[VMSPEC_CMDLINE_MAX + 1];
	char		 bootloader[VMSPEC_PATH_MAX + 1];
	size_t		 ndisks;
	struct template_disk disks[VMSPEC_DISKS_MAX];
	size_t		 nnics;
	struct template_nic nics[VMSPEC_NICS_MAX];
};

extern const char *const template_disk_mode_names[];	/* "image", ... */

/* "pv", "pvh" or "hvm" to its enum vm_type; -1 if unknown. */
int	template_type_from_name(const char *);

/* The names' rules: VMs (common/vmspec.h), templates and pools
 * (xvds.conf(5)). */
bool	template_vm_name_ok(const char *);
bool	template_name_ok(const char *);

/*
 * The name of VM number index of a pool: "<pool>-<NN>", at least two
 * digits ("lab-a-01").  Pools number their VMs from 1.  Returns 0, or -1
 * if the name is not a valid VM name or does not fit in len bytes.
 */
int	template_vm_name(const char *pool, unsigned index, char *buf, size_t len);

/* The VM's own directory on the store, "<store>/vms/<vmname>"; 0 or -1. */
int	template_vm_dir(const char *store, const char *vmname, char *buf,
	    size_t len);

/*
 * The MAC address of a VM's NIC number index: Xen's OUI 00:16:3e and 24
 * bits of FNV-1a over "<vmname>/<index>" (see common/template.c on collisions).
 * buf needs TEMPLATE_MAC_STRLEN bytes; returns 0, or -1 if it is smaller.
 */
int	template_mac(const char *vmname, unsigned index, char *buf, size_t len);
/* The same 24 bits as a number, for collision checks. */
uint32_t template_mac_bits(const char *vmname, unsigned index);

/*
 * Fills out with the domain for VM vmname made from template t on the
 * store mounted at store.  Returns 0, or -1 with a reason in err (an
 * invalid VM name, or a per-VM path longer than VMSPEC_PATH_MAX).
 */
int	template_instantiate(const struct conf_template *t, const char *store,
	    const char *vmname, struct vm_spec *out, char *err, size_t errlen);

/*
 * The golden image a VM's disk vdev is made from (overlay or clone), or
 * NULL if the disk is an image used as it is or the template has no such
 * disk.  Golden images are raw: an overlay's backing format is raw.
 */
const char *template_disk_golden(const struct conf_template *, const char *vdev);

#endif

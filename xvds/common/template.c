/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/template.c — one VM from a template (see common/template.h): its name,
 * its per-VM disk paths on the shared store, its MAC addresses.  Pure code,
 * no I/O: the daemon creates the files, the unit tests check the names.
 */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/template.h"

const char *const vm_type_names[] = {
	[VM_TYPE_PV] = "pv",
	[VM_TYPE_PVH] = "pvh",
	[VM_TYPE_HVM] = "hvm",
};

const char *const template_disk_mode_names[] = {
	[TEMPLATE_DISK_IMAGE] = "image",
	[TEMPLATE_DISK_OVERLAY] = "overlay",
	[TEMPLATE_DISK_CLONE] = "clone",
};

int
template_type_from_name(const char *name)
{
	int	 i;

	for (i = VM_TYPE_PV; i <= VM_TYPE_HVM; i++)
		if (strcmp(vm_type_names[i], name) == 0)
			return i;
	return -1;
}

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* common/vmspec.h's rule: 1 to 63 of [A-Za-z0-9_.-], first a letter or
 * digit. */
bool
template_vm_name_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > VMSPEC_NAME_MAX || !is_alnum(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* xvds.conf(5)'s rule for templates and pools. */
bool
template_name_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > TEMPLATE_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

int
template_vm_name(const char *pool, unsigned index, char *buf, size_t len)
{
	int	 n;

	if (!template_name_ok(pool))
		return -1;
	n = snprintf(buf, len, "%s-%02u", pool, index);
	if (n < 0 || (size_t)n >= len || n > VMSPEC_NAME_MAX)
		return -1;
	return 0;
}

int
template_vm_dir(const char *store, const char *vmname, char *buf, size_t len)
{
	int	 n;

	if (store[0] != '/' || !template_vm_name_ok(vmname))
		return -1;
	n = snprintf(buf, len, "%s/vms/%s", store, vmname);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/*
 * 24 bits of FNV-1a (32 bits, xor-folded as its authors advise for
 * shorter hashes) over "<vmname>/<index>".  Deterministic, so that a VM
 * keeps its MAC, and with it its DHCP lease, across restarts, restores
 * and migrations, with nothing to store.
 *
 * The price is the birthday bound: n NICs on one layer-2 network collide
 * with probability about 1 - exp(-n(n-1) / 2^25): 0.03% for 100 NICs,
 * 3% for 1,000, 39% for 4,096.  common/conf.c refuses a configuration whose own
 * VMs collide (the operator renames a pool); VMs of different hosts on
 * one network are beyond what one host's configuration can see.
 */
uint32_t
template_mac_bits(const char *vmname, unsigned index)
{
	char	 idx[16];
	const char *parts[3] = { vmname, "/", idx };
	uint32_t h = 2166136261u;
	size_t	 i;
	const unsigned char *s;

	snprintf(idx, sizeof(idx), "%u", index);
	for (i = 0; i < 3; i++)
		for (s = (const unsigned char *)parts[i]; *s != '\0'; s++) {
			h ^= *s;
			h *= 16777619u;
		}
	return (h >> 24) ^ (h & 0xffffffu);
}

int
template_mac(const char *vmname, unsigned index, char *buf, size_t len)
{
	uint32_t b = template_mac_bits(vmname, index);
	int	 n;

	/* 00:16:3e is Xen's OUI: unicast, globally administered. */
	n = snprintf(buf, len, "00:16:3e:%02x:%02x:%02x",
	    (unsigned)(b >> 16) & 0xff, (unsigned)(b >> 8) & 0xff,
	    (unsigned)b & 0xff);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

int
template_instantiate(const struct conf_template *t, const char *store,
    const char *vmname, struct vm_spec *out, char *err, size_t errlen)
{
	size_t	 i;
	int	 n;

	memset(out, 0, sizeof(*out));
	if (strlen(vmname) > VMSPEC_NAME_MAX) {
		errbuf_set(err, errlen, "VM name \"%.20s...\" is longer than %d "
		    "characters", vmname, VMSPEC_NAME_MAX);
		return -1;
	}
	if (!template_vm_name_ok(vmname)) {
		errbuf_set(err, errlen, "VM name \"%s\": expected 1 to %d of "
		    "[A-Za-z0-9_.-], first a letter or digit", vmname,
		    VMSPEC_NAME_MAX);
		return -1;
	}
	if (store[0] != '/') {
		errbuf_set(err, errlen, "store \"%s\" is not an absolute path", store);
		return -1;
	}
	if (t->ndisks > VMSPEC_DISKS_MAX || t->nnics > VMSPEC_NICS_MAX) {
		errbuf_set(err, errlen, "template \"%s\" has too many devices", t->name);
		return -1;
	}

	/* The template's strings have the spec's bounds: plain copies. */
	memcpy(out->name, vmname, strlen(vmname) + 1);
	out->type = t->type;
	out->vcpus = t->vcpus;
	out->max_vcpus = t->max_vcpus;
	out->memory_mib = t->memory_mib;
	out->max_memory_mib = t->max_memory_mib;
	memcpy(out->kernel, t->kernel, sizeof(out->kernel));
	memcpy(out->ramdisk, t->ramdisk, sizeof(out->ramdisk));
	memcpy(out->cmdline, t->cmdline, sizeof(out->cmdline));
	memcpy(out->bootloader, t->bootloader, sizeof(out->bootloader));

	for (i = 0; i < t->ndisks; i++) {
		const struct template_disk *td = &t->disks[i];
		struct vm_disk *d = &out->disks[i];

		memcpy(d->vdev, td->vdev, sizeof(d->vdev));
		switch (td->mode) {
		case TEMPLATE_DISK_OVERLAY:
			/* qcow2 needs QEMU: blkback only serves raw. */
			n = snprintf(d->path, sizeof(d->path), "%s/vms/%s/%s.qcow2",
			    store, vmname, td->vdev);
			d->format = VM_DISK_QCOW2;
			d->backend = VM_DISK_QDISK;
			d->readonly = false;
			break;
		case TEMPLATE_DISK_CLONE:
			n = snprintf(d->path, sizeof(d->path), "%s/vms/%s/%s.raw",
			    store, vmname, td->vdev);
			d->format = VM_DISK_RAW;
			d->backend = VM_DISK_PHY;
			d->readonly = false;
			break;
		case TEMPLATE_DISK_IMAGE:
		default:
			n = snprintf(d->path, sizeof(d->path), "%s", td->path);
			d->format = VM_DISK_RAW;
			d->backend = VM_DISK_PHY;
			d->readonly = td->readonly;
			break;
		}
		if (n < 0 || (size_t)n >= sizeof(d->path)) {
			errbuf_set(err, errlen, "%s: the VM's disk path under %s is "
			    "longer than %d bytes", td->vdev, store,
			    VMSPEC_PATH_MAX);
			memset(out, 0, sizeof(*out));
			return -1;
		}
	}
	out->ndisks = t->ndisks;

	for (i = 0; i < t->nnics; i++) {
		struct vm_nic *nic = &out->nics[i];

		template_mac(vmname, (unsigned)i, nic->mac, sizeof(nic->mac));
		memcpy(nic->bridge, t->nics[i].bridge, sizeof(nic->bridge));
	}
	out->nnics = t->nnics;
	return 0;
}

const char *
template_disk_golden(const struct conf_template *t, const char *vdev)
{
	size_t	 i;

	for (i = 0; i < t->ndisks && i < VMSPEC_DISKS_MAX; i++) {
		if (strcmp(t->disks[i].vdev, vdev) != 0)
			continue;
		if (t->disks[i].mode == TEMPLATE_DISK_IMAGE)
			return NULL;
		return t->disks[i].path;
	}
	return NULL;
}

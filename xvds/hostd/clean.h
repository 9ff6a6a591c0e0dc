/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/clean.h — a CVM's clean image, what a fast reset restores (after a
 * logout, back to the golden image in seconds, not a boot).  On the
 * shared store:
 *
 *   <store>/clean/<vm>.img          the memory image, saved right after the
 *                                   CVM's first boot from its golden disks
 *   <store>/clean/<vm>/<vdev>.qcow2 its overlays as they were at that save
 *   <store>/clean/<vm>.json         the stamp: what they were made from
 *
 * The stamp is written last, so a clean image without one is not whole;
 * and one whose stamp no longer matches the VM (its template, kernel,
 * resources or golden images changed) is not used.  A fast reset puts
 * fresh copies of the kept overlays back and restores the image; without
 * a usable clean image the reset is cold (fresh overlays, a fresh boot).
 */
#ifndef XVDS_HOSTD_CLEAN_H
#define XVDS_HOSTD_CLEAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/template.h"
#include "common/vmspec.h"

/* "<store>/clean/<vm>.img"; 0, or -1 if it does not fit. */
int	clean_image_path(const char *store, const char *vm, char *buf, size_t len);
/* Makes "<store>/clean" and the VM's folder in it (the store too); 0 or -1. */
int	clean_prepare(const char *store, const char *vm);

/*
 * After the image was saved (the domain gone, its disks closed): keeps
 * copies of the VM's overlays, then the stamp.  0, or -1 with err (and
 * nothing usable left behind).
 */
int	clean_keep(const char *store, const struct conf_template *,
	    const struct vm_spec *, char *err, size_t errlen);

/* Whether the VM has a whole clean image made from what it is now. */
bool	clean_usable(const char *store, const struct conf_template *,
	    const struct vm_spec *);

/* Puts fresh copies of the kept overlays in place; 0, or -1 with err. */
int	clean_put_back(const char *store, const struct conf_template *,
	    const struct vm_spec *, char *err, size_t errlen);

/* Removes the VM's clean image, overlays and stamp (what there is). */
void	clean_discard(const char *store, const char *vm);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/qcow2.h — a VM's copy-on-write disk: an empty qcow2 (version 3) image
 * over a raw golden image.  Writing a fresh one over an old one is how a
 * CVM's disk goes back to the golden image.
 */
#ifndef XVDS_HOSTD_QCOW2_H
#define XVDS_HOSTD_QCOW2_H

/*
 * Creates (or replaces, atomically) path as an empty overlay whose reads
 * fall through to the raw image backing; its size is backing's.  The
 * backing path is stored as given: keep it absolute.  0, or -1 with errno
 * set and a reason in err.
 */
int	qcow2_create_overlay(const char *path, const char *backing, char *err,
	    size_t errlen);

#endif

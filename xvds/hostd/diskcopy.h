/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/diskcopy.h — copying a disk image file: a clone of a golden image, or a
 * clean image's kept disks (hostd/clean.h).
 */
#ifndef XVDS_HOSTD_DISKCOPY_H
#define XVDS_HOSTD_DISKCOPY_H

#include <stddef.h>

/*
 * Copies from to to, through "<to>.partial", synced and renamed: a crash
 * never leaves half a copy under the name.  Blocks of zeros become holes,
 * so a sparse golden image stays sparse.  0, or -1 with err.
 */
int	disk_copy(const char *from, const char *to, char *err, size_t errlen);

#endif

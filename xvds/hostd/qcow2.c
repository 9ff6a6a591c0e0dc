/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/qcow2.c — writes an empty qcow2 v3 overlay over a raw image (the format
 * is QEMU's docs/interop/qcow2.txt).  Four 64 KiB clusters: the header
 * with its extensions and the backing file's name, the refcount table,
 * one refcount block (16-bit counts) and an L1 table of zeros, which
 * sends every read to the backing image.  QEMU's qdisk backend serves it;
 * the unit test has qemu-img check it and qemu-io read through it.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "hostd/qcow2.h"

#define CLUSTER_BITS	16
#define CLUSTER		(1u << CLUSTER_BITS)
#define HEADER_LEN	104		/* version 3's fixed header */
#define EXT_BACKING_FMT	0xE2792ACAu
#define L2_ENTRIES	(CLUSTER / 8)
/* Clusters: 0 header, 1 refcount table, 2 refcount block, 3 L1 table. */
#define REFTABLE_AT	(1 * (uint64_t)CLUSTER)
#define REFBLOCK_AT	(2 * (uint64_t)CLUSTER)
#define L1_AT		(3 * (uint64_t)CLUSTER)
#define NCLUSTERS	4
/* One L1 cluster maps 8192 × 512 MiB = 4 TiB: plenty for a desktop. */
#define MAX_SIZE	((uint64_t)(CLUSTER / 8) * L2_ENTRIES * CLUSTER)

static void
be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
be64(unsigned char *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

static void
be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

int
qcow2_create_overlay(const char *path, const char *backing, char *err,
    size_t errlen)
{
	unsigned char *img = NULL;
	char	 tmp[4096];
	struct stat st;
	uint64_t size, l1_size;
	size_t	 blen = strlen(backing), off;
	ssize_t	 n;
	int	 fd = -1, i;

	if (stat(backing, &st) == -1) {
		errbuf_set(err, errlen, "golden image %s: %s", backing, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		errno = EINVAL;
		errbuf_set(err, errlen, "golden image %s is not a file", backing);
		return -1;
	}
	size = (uint64_t)st.st_size;
	/* qcow2 sizes are whole 512-byte sectors. */
	if (size == 0 || size % 512 != 0 || size > MAX_SIZE) {
		errno = EINVAL;
		errbuf_set(err, errlen, "golden image %s: size %ju is not a multiple "
		    "of 512 between 512 and 4 TiB", backing, (uintmax_t)size);
		return -1;
	}
	/* The header, extensions and name must fit in cluster 0. */
	if (blen == 0 || blen > 1023) {
		errno = ENAMETOOLONG;
		errbuf_set(err, errlen, "golden image path too long");
		return -1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		errbuf_set(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((img = calloc(NCLUSTERS, CLUSTER)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	l1_size = (size + (uint64_t)L2_ENTRIES * CLUSTER - 1) /
	    ((uint64_t)L2_ENTRIES * CLUSTER);

	/* Header. */
	memcpy(img, "QFI\xfb", 4);
	be32(img + 4, 3);				/* version */
	/* backing file offset and size: filled below */
	be32(img + 20, CLUSTER_BITS);
	be64(img + 24, size);
	be32(img + 32, 0);				/* no encryption */
	be32(img + 36, (uint32_t)l1_size);
	be64(img + 40, L1_AT);
	be64(img + 48, REFTABLE_AT);
	be32(img + 56, 1);				/* refcount table clusters */
	be32(img + 60, 0);				/* snapshots */
	be64(img + 64, 0);
	be64(img + 72, 0);				/* incompatible features */
	be64(img + 80, 0);				/* compatible features */
	be64(img + 88, 0);				/* autoclear features */
	be32(img + 96, 4);				/* refcount order: 16 bits */
	be32(img + 100, HEADER_LEN);

	/* Extension: the backing file is raw. */
	off = HEADER_LEN;
	be32(img + off, EXT_BACKING_FMT);
	be32(img + off + 4, 3);
	memcpy(img + off + 8, "raw", 3);
	off += 8 + 8;					/* data padded to 8 */
	be32(img + off, 0);				/* end of extensions */
	be32(img + off + 4, 0);
	off += 8;
	memcpy(img + off, backing, blen);
	be64(img + 8, off);
	be32(img + 16, (uint32_t)blen);

	/* Refcount table -> block; each of the four clusters used once. */
	be64(img + REFTABLE_AT, REFBLOCK_AT);
	for (i = 0; i < NCLUSTERS; i++)
		be16(img + REFBLOCK_AT + 2 * i, 1);
	/* L1 table: all zero, nothing allocated. */

	/* Written whole under another name, then renamed over the old disk. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	for (off = 0; off < (size_t)NCLUSTERS * CLUSTER; off += (size_t)n) {
		n = write(fd, img + off, (size_t)NCLUSTERS * CLUSTER - off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		errbuf_set(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(img);
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(img);
	return -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/diskcopy.c — copying disk images (see hostd/diskcopy.h).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostd/diskcopy.h"
#include "common/errbuf.h"
#include "common/vmspec.h"

#define BLOCK	65536

static bool
all_zero(const unsigned char *b, size_t n)
{
	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

int
disk_copy(const char *from, const char *to, char *err, size_t errlen)
{
	unsigned char buf[BLOCK];
	char	 tmp[VMSPEC_PATH_MAX + 100];
	const char *failed = from;
	struct stat st;
	off_t	 off = 0;
	ssize_t	 n;
	int	 in, out = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.partial", to) >= sizeof(tmp)) {
		errbuf_set(err, errlen, "%s: path too long", to);
		return -1;
	}
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1 || fstat(in, &st) == -1)
		goto fail;
	failed = tmp;
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		goto fail;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		/* A hole instead of zeros: the size is set at the end. */
		if (!all_zero(buf, (size_t)n) &&
		    pwrite(out, buf, (size_t)n, off) != n)
			goto fail;
		off += n;
	}
	if (n == -1) {
		failed = from;
		goto fail;
	}
	if (ftruncate(out, st.st_size) == -1 || fsync(out) == -1)
		goto fail;
	if (close(out) == -1) {
		out = -1;
		goto fail;
	}
	out = -1;
	close(in);
	in = -1;
	failed = to;
	if (rename(tmp, to) == -1)
		goto fail;
	return 0;
 fail:
	errbuf_set(err, errlen, "copying %s to %s: %s: %s", from, to, failed,
	    strerror(errno));
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	unlink(tmp);
	return -1;
}

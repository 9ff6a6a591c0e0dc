/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/clean.c — a CVM's clean image for fast resets (see hostd/clean.h).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hostd/clean.h"
#include "hostd/diskcopy.h"
#include "common/errbuf.h"
#include "common/log.h"

#define STAMP_VERSION	1

/* errbuf_set(), then -1: for the one-line failures below. */
static int
fail_with(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_with(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errbuf_set(err, errlen, "%s", msg);
	return -1;
}

static int
path_of(char *buf, size_t len, const char *store, const char *vm,
    const char *what)
{
	int	 n = snprintf(buf, len, "%s/clean/%s%s", store, vm, what);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
clean_image_path(const char *store, const char *vm, char *buf, size_t len)
{
	return path_of(buf, len, store, vm, ".img");
}

int
clean_prepare(const char *store, const char *vm)
{
	char	 dir[VMSPEC_PATH_MAX + 80];

	/* The store itself too, as saves do (hostd/vm.c). */
	if ((mkdir(store, 0755) == -1 && errno != EEXIST) ||
	    path_of(dir, sizeof(dir), store, "", "") == -1 ||
	    (mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    path_of(dir, sizeof(dir), store, vm, "") == -1 ||
	    (mkdir(dir, 0700) == -1 && errno != EEXIST))
		return -1;
	return 0;
}

/* Where the kept copy of the disk with vdev lives. */
static int
kept_path(char *buf, size_t len, const char *store, const char *vm,
    const char *vdev)
{
	int	 n = snprintf(buf, len, "%s/clean/%s/%s.qcow2", store, vm, vdev);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The disks a clean image keeps: the VM's own, made from golden images. */
static bool
kept(const struct conf_template *t, const struct vm_disk *d)
{
	return template_disk_golden(t, d->vdev) != NULL;
}

static void
stat_into(json_t *o, const char *key, const char *path)
{
	struct stat st;

	if (path[0] == '\0' || stat(path, &st) == -1)
		json_object_set_new(o, key, json_null());
	else
		json_object_set_new(o, key, json_pack("[I, I]",
		    (json_int_t)st.st_mtime, (json_int_t)st.st_size));
}

/*
 * What the clean image is made from, as one string: the VM's domain and
 * its template's golden files (their times and sizes).
 */
static char *
stamp(const struct conf_template *t, const struct vm_spec *s)
{
	json_t	*o, *disks, *nics;
	char	*str;
	size_t	 i;

	o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s}",
	    "v", STAMP_VERSION, "vm", s->name, "template", t->name,
	    "type", (int)s->type, "memory_mib", (json_int_t)s->memory_mib,
	    "kernel", s->kernel, "ramdisk", s->ramdisk, "cmdline", s->cmdline,
	    "bootloader", s->bootloader);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "vcpus", json_integer((json_int_t)s->vcpus));
	stat_into(o, "kernel_stat", s->kernel);
	stat_into(o, "ramdisk_stat", s->ramdisk);
	disks = json_array();
	for (i = 0; i < s->ndisks; i++) {
		const char *golden = template_disk_golden(t, s->disks[i].vdev);
		json_t	*d = json_pack("{s:s, s:s}", "vdev", s->disks[i].vdev,
		    "path", s->disks[i].path);

		stat_into(d, "golden", golden != NULL ? golden : "");
		json_array_append_new(disks, d);
	}
	json_object_set_new(o, "disks", disks);
	nics = json_array();
	for (i = 0; i < s->nnics; i++)
		json_array_append_new(nics, json_pack("[s, s]", s->nics[i].mac,
		    s->nics[i].bridge));
	json_object_set_new(o, "nics", nics);
	str = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return str;
}

int
clean_keep(const char *store, const struct conf_template *t,
    const struct vm_spec *s, char *err, size_t errlen)
{
	char	 path[VMSPEC_PATH_MAX + 100], tmp[VMSPEC_PATH_MAX + 110];
	char	*str;
	size_t	 i;
	FILE	*f;

	for (i = 0; i < s->ndisks; i++) {
		if (!kept(t, &s->disks[i]))
			continue;
		if (kept_path(path, sizeof(path), store, s->name,
		    s->disks[i].vdev) == -1) {
			errbuf_set(err, errlen, "clean image: path too long");
			goto fail;
		}
		if (disk_copy(s->disks[i].path, path, err, errlen) == -1)
			goto fail;
	}
	if ((str = stamp(t, s)) == NULL) {
		errbuf_set(err, errlen, "clean image: cannot make its stamp");
		goto fail;
	}
	if (path_of(path, sizeof(path), store, s->name, ".json") == -1 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.partial", path) >= sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL) {
		errbuf_set(err, errlen, "clean image: cannot write its stamp");
		free(str);
		goto fail;
	}
	fputs(str, f);
	free(str);
	if (fflush(f) == EOF || fsync(fileno(f)) == -1 || fclose(f) == EOF ||
	    rename(tmp, path) == -1) {
		errbuf_set(err, errlen, "clean image: %s: %s", path, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	return 0;
 fail:
	clean_discard(store, s->name);
	return -1;
}

bool
clean_usable(const char *store, const struct conf_template *t,
    const struct vm_spec *s)
{
	char	 path[VMSPEC_PATH_MAX + 100], *want, *have = NULL;
	struct stat st;
	bool	 ok;
	size_t	 i, n = 0;
	FILE	*f;

	if (clean_image_path(store, s->name, path, sizeof(path)) == -1 ||
	    stat(path, &st) == -1)
		return false;
	for (i = 0; i < s->ndisks; i++)
		if (kept(t, &s->disks[i]) && (kept_path(path, sizeof(path), store,
		    s->name, s->disks[i].vdev) == -1 || stat(path, &st) == -1))
			return false;
	if (path_of(path, sizeof(path), store, s->name, ".json") == -1 ||
	    (f = fopen(path, "r")) == NULL)
		return false;
	if ((want = stamp(t, s)) == NULL) {
		fclose(f);
		return false;
	}
	/* One line, no longer than what it should be. */
	if ((have = malloc(strlen(want) + 2)) != NULL)
		n = fread(have, 1, strlen(want) + 1, f);
	fclose(f);
	ok = have != NULL && n == strlen(want) && memcmp(have, want, n) == 0;
	if (!ok)
		log_info("%s: its clean image was made from something else: not "
		    "used", s->name);
	free(have);
	free(want);
	return ok;
}

int
clean_put_back(const char *store, const struct conf_template *t,
    const struct vm_spec *s, char *err, size_t errlen)
{
	char	 path[VMSPEC_PATH_MAX + 100];
	size_t	 i;

	for (i = 0; i < s->ndisks; i++) {
		if (!kept(t, &s->disks[i]))
			continue;
		if (kept_path(path, sizeof(path), store, s->name,
		    s->disks[i].vdev) == -1)
			return fail_with(err, errlen, "clean image: path too long");
		if (disk_copy(path, s->disks[i].path, err, errlen) == -1)
			return -1;
	}
	return 0;
}

void
clean_discard(const char *store, const char *vm)
{
	static const char *const what[] = { ".json", ".img", ".img.partial" };
	char	 path[VMSPEC_PATH_MAX + 100];
	size_t	 i;
	char	 vdev[5] = "xvda";

	/* The stamp first: what is left without it is never used. */
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		if (path_of(path, sizeof(path), store, vm, what[i]) == 0 &&
		    unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: cannot remove %s", vm, path);
	for (vdev[3] = 'a'; vdev[3] <= 'z'; vdev[3]++)
		if (kept_path(path, sizeof(path), store, vm, vdev) == 0)
			(void)unlink(path);
	if (path_of(path, sizeof(path), store, vm, "") == 0)
		(void)rmdir(path);
}

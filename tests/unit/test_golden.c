/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_golden.c — templates in, libxl domain configurations out: each
 * template of tests/unit/golden/templates.conf is instantiated and turned
 * into libxl's domain config (hv/libxl.c), whose JSON must equal the
 * golden file <template>.json (the habit of libvirt's libxlxml2domconfig
 * tests).  No hypervisor is needed.  After a deliberate change, set
 * XVDS_GOLDEN_UPDATE=1 to rewrite the golden files, and review the diff.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/conf.h"
#include "hv/hv.h"
#include "common/template.h"

static char *
read_file(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
test_templates_match_golden(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	const char *update = getenv("XVDS_GOLDEN_UPDATE");
	struct xvds_conf *c;
	char	 path[1024], err[CONF_ERR_MAX];
	size_t	 i;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/unit/golden/templates.conf",
	    srcdir ? srcdir : ".");
	c = conf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(conf_ntemplates(c), 3);
	for (i = 0; i < conf_ntemplates(c); i++) {
		const struct conf_template *t = conf_template_at(c, i);
		struct vm_spec spec;
		char	*json, *golden;

		if (template_instantiate(t, conf_settings(c)->store, "golden-01",
		    &spec, err, sizeof(err)) == -1)
			fail_msg("%s: %s", t->name, err);
		json = hv_spec_to_json(NULL, &spec);
		assert_non_null(json);
		snprintf(path, sizeof(path), "%s/tests/unit/golden/%s.json",
		    srcdir ? srcdir : ".", t->name);
		if (update != NULL && strcmp(update, "1") == 0) {
			FILE	*f = fopen(path, "w");

			assert_non_null(f);
			fprintf(f, "%s\n", json);
			fclose(f);
		}
		golden = read_file(path);
		if (golden == NULL)
			fail_msg("%s: no golden file %s", t->name, path);
		/* The golden file ends with a newline; libxl's JSON does not. */
		golden[strcspn(golden, "\0")] = '\0';
		if (strlen(golden) > 0 && golden[strlen(golden) - 1] == '\n')
			golden[strlen(golden) - 1] = '\0';
		if (strcmp(json, golden) != 0)
			fail_msg("%s: libxl config differs from %s:\n%s", t->name,
			    path, json);
		free(golden);
		free(json);
	}
	conf_free(c);
}

/* What libxl is given must be what the template says, not just stable. */
static void
test_translation_facts(void **state)
{
	struct vm_spec s;
	char	*json;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "facts");
	s.type = VM_TYPE_PVH;
	s.vcpus = 2;
	s.max_vcpus = 4;
	s.memory_mib = 512;
	s.max_memory_mib = 1024;
	snprintf(s.kernel, sizeof(s.kernel), "/k");
	s.ndisks = 1;
	snprintf(s.disks[0].vdev, sizeof(s.disks[0].vdev), "xvda");
	snprintf(s.disks[0].path, sizeof(s.disks[0].path), "/d.qcow2");
	s.disks[0].format = VM_DISK_QCOW2;
	s.disks[0].backend = VM_DISK_QDISK;
	s.nnics = 1;
	snprintf(s.nics[0].mac, sizeof(s.nics[0].mac), "00:16:3e:01:02:03");
	snprintf(s.nics[0].bridge, sizeof(s.nics[0].bridge), "xenbr0");
	json = hv_spec_to_json(NULL, &s);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"type\": \"pvh\""));
	assert_non_null(strstr(json, "\"max_vcpus\": 4"));
	assert_non_null(strstr(json, "\"max_memkb\": 1048576"));
	assert_non_null(strstr(json, "\"target_memkb\": 524288"));
	assert_non_null(strstr(json, "\"backend\": \"qdisk\""));
	assert_non_null(strstr(json, "\"format\": \"qcow2\""));
	assert_non_null(strstr(json, "\"mac\": \"00:16:3e:01:02:03\""));
	free(json);

	/* Refused: blkback with qcow2, more vCPUs online than the maximum, a bad MAC. */
	s.disks[0].backend = VM_DISK_PHY;
	assert_null(hv_spec_to_json(NULL, &s));
	s.disks[0].backend = VM_DISK_QDISK;
	s.vcpus = 5;
	assert_null(hv_spec_to_json(NULL, &s));
	s.vcpus = 2;
	snprintf(s.nics[0].mac, sizeof(s.nics[0].mac), "00:16:3e:01:02");
	assert_null(hv_spec_to_json(NULL, &s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_match_golden),
		cmocka_unit_test(test_translation_facts),
	};

	return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}

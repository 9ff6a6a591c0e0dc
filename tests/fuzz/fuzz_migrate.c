/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_migrate.c — libFuzzer target for what a migration peer sends
 * besides the domain (xvds/hostd/migrate_msg.c): any bytes must be refused with
 * a message or decoded into an offer that encodes and decodes again to
 * the same offer; any string must be refused or split into a host and a
 * port.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostd/migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migrate_offer o, again;
	char	 msg[256], host[MIGRATE_PEER_MAX + 1], *s, *str;
	uint16_t port;

	msg[0] = '\0';
	if (migrate_offer_decode((const char *)data, size, &o, msg,
	    sizeof(msg)) == 0) {
		s = migrate_offer_encode(&o);
		if (migrate_offer_decode(s, strlen(s), &again, msg,
		    sizeof(msg)) != 0 || memcmp(&o, &again, sizeof(o)) != 0)
			abort();
		free(s);
	} else if (msg[0] == '\0')
		abort();	/* refused without a reason */
	if ((str = malloc(size + 1)) == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	if (migrate_parse_peer(str, host, sizeof(host), &port, 8002) == 0 &&
	    (host[0] == '\0' || port == 0))
		abort();
	free(str);
	return 0;
}

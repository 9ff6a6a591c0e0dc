/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_broker.c — libFuzzer target for the broker API's messages
 * (xvds/common/broker_msg.c): any bytes must be refused with a message or
 * decoded into a request (a reply) that encodes and decodes again to the
 * same request (reply).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/broker_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct broker_request q, q2;
	struct broker_reply r, r2;
	char	 err[256], *s;

	err[0] = '\0';
	if (broker_request_decode((const char *)data, size, &q, err,
	    sizeof(err)) == 0) {
		if ((s = broker_request_encode(&q, err, sizeof(err))) == NULL ||
		    broker_request_decode(s, strlen(s), &q2, err,
		    sizeof(err)) != 0 || memcmp(&q, &q2, sizeof(q)) != 0)
			abort();
		free(s);
	} else if (err[0] == '\0')
		abort();	/* refused without a reason */
	err[0] = '\0';
	if (broker_reply_decode((const char *)data, size, &r, err,
	    sizeof(err)) == 0) {
		if ((s = broker_reply_encode(&r, err, sizeof(err))) == NULL ||
		    broker_reply_decode(s, strlen(s), &r2, err,
		    sizeof(err)) != 0 || memcmp(&r, &r2, sizeof(r)) != 0)
			abort();
		free(s);
	} else if (err[0] == '\0')
		abort();
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_agent.c — libFuzzer target for the agent channel's messages
 * (xvds/agent/msg.c), which each end takes from the network: any bytes
 * must be refused with a reason, or decode into a message that encodes,
 * within the line limit and without a newline, and decodes again to the
 * same message.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_msg m, again;
	char	 err[256], *s;

	err[0] = '\0';
	if (agent_msg_decode((const char *)data, size, &m, NULL, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();	/* refused without a reason */
		return 0;
	}
	if ((s = agent_msg_encode(&m, err, sizeof(err))) == NULL)
		abort();	/* decoded, yet we would not send it */
	if (strlen(s) >= AGENT_MSG_MAX || strchr(s, '\n') != NULL)
		abort();
	if (agent_msg_decode(s, strlen(s), &again, NULL, err, sizeof(err)) != 0 ||
	    !agent_msg_equal(&m, &again))
		abort();
	agent_msg_clear(&again);
	agent_msg_clear(&m);
	free(s);
	return 0;
}

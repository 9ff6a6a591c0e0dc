/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/jsonerr.h — jansson's errors told without the input's bytes.
 *
 * jansson's own text quotes the input near a syntax error ("invalid token
 * near 'hunter2'") and names the members a strict unpack left over; in a
 * message that can carry a password, a token or a hash, either may be the
 * secret.  Every decoder whose errors are logged or returned says what
 * went wrong and where (the byte, the expected type, our own member's
 * name), never what it read.
 */
#ifndef XVDS_COMMON_JSONERR_H
#define XVDS_COMMON_JSONERR_H

#include <jansson.h>

/*
 * e's error in words of ours: "invalid syntax at byte 19", "Expected
 * string, got integer", "an unknown member".  The text is in a buffer of
 * the calling thread's, valid until its next call.
 */
const char	*jsonerr(const json_error_t *e);

#endif

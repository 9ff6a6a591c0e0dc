/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/wipe.h — memory that held a secret is wiped before it is freed, also
 * where a library holds it (xvds-broker(7), xvds-agent(7) SECURITY
 * CONSIDERATIONS).
 *
 * Our own copies of passwords, one-time credentials and session tokens
 * are wiped where they are used (sodium_memzero).  The libraries that
 * carry them keep copies of their own and free them as they are: jansson
 * (the encoder's growing buffers, the parser's strings), libevent (the
 * buffers' chains of a connection's input and output).  wipe_init() gives
 * both an allocator whose free wipes the whole block first.  OpenSSL's
 * record buffers are cleansed by SSL_OP_CLEANSE_PLAINTEXT, set on every
 * context that carries a secret.
 */
#ifndef XVDS_COMMON_WIPE_H
#define XVDS_COMMON_WIPE_H

#include <stddef.h>

/*
 * Installs the wiping allocator in jansson and libevent: first thing in
 * main(), before either allocates (libevent must not yet have been used).
 */
void	wipe_init(void);

/* free(), the block wiped first; NULL is ignored. */
void	wipe_free(void *);

#endif

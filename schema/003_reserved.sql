-- SPDX-License-Identifier: GPL-2.0-or-later
-- 003: a placeholder on the pool branch only.  Migration 003 is the
-- lead's (sessions); migrations must run 1, 2, 3... without a gap, so
-- this stands in for it until the merge, which replaces this file by the
-- lead's 003 (and its line in Makefile.am's SCHEMA_SQL).  It changes
-- nothing.
SELECT 1;

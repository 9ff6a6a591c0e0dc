-- SPDX-License-Identifier: GPL-2.0-or-later
-- 005: indexes for the broker's two questions at every login, so that a
-- boot storm does not scan every VM and session (measured in
-- tests/bench/bench_broker.c: the CVM pick went from about 7 ms, all
-- candidates sorted, to well under 1 ms, stopping at the first).
--
-- The pick orders CVMs by (state, id): vm_state's declaration order puts
-- 'ready' before 'paused' before 'saved', the order the broker wants
-- them in, so an index scan in that order stops at the first free one.
CREATE INDEX vms_cvm_pick ON vms (state, id) WHERE kind = 'cvm';
-- "Has this user a session open?" (the reconnect).
CREATE INDEX sessions_open_user ON sessions (user_id) WHERE ended IS NULL;

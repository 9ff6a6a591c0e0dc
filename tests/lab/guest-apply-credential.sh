#!/bin/sh
# The lab's apply command for xvds-guestd (-c), in the lab's guests: takes
# "user:password" on stdin as the real one does, and instead of changing
# an account records what it was given where dom0 can check it: the user
# and a SHA-256 of the password (never the password) in data/lab/credential,
# and whether this guest could read (it must) and write (it must not) the
# key dom0 put it in.  The user xvds-zzzzzzzz fails, for the failure path.
set -u
export PATH=/usr/bin
IFS= read -r line || exit 1
user=${line%%:*}
pw=${line#*:}
xenstore-read xvds/credential >/dev/null 2>&1
r=$?
xenstore-write xvds/credential "v=1 seq=1 user=xvds-zzzzzzzz password=x" >/dev/null 2>&1
w=$?
sum=$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)
pw=
xenstore-write data/lab/credential "user=$user sha256=$sum read=$r write=$w"
[ "$user" != xvds-zzzzzzzz ]

#!/bin/sh
# Run once by the postgres image on a new data directory: let the replica connect for streaming.
echo "host replication tsh all scram-sha-256" >> "$PGDATA/pg_hba.conf"

-- The live cluster (controller/cluster.c): the hosts' sampled figures.

-- name: cluster_figures
UPDATE hosts SET rvm = $2::integer, tcpu = $3::integer, fcpu = $4::integer,
    acpu = $5::integer, tmem_mib = $6::bigint, fmem_mib = $7::bigint,
    load = $8::real, sampled = now() WHERE name = $1;

"""The throwaway PostgreSQL cluster the store's PostgreSQL tests run on: it starts from
Debian's server binaries, serves on its own Unix socket, makes databases, and is gone after."""

from __future__ import annotations

import uuid

psycopg = __import__("pytest").importorskip("psycopg")


def test_the_cluster_serves_a_fresh_database_per_test(pg_cluster):
    name = f"t_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.createdb(name)
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone() == (name,)
        conn.execute("create table t (x int primary key)")
        conn.execute("insert into t values (1)")
        assert conn.execute("select count(*) from t").fetchone() == (1,)
    assert str(pg_cluster.socket_dir) in url and "localhost" not in url  # no TCP port

"""The SQLAlchemy dialect Great Expectations reads the warehouse through: duckdb-engine's, in
autocommit (see ``GX_DUCKDB_DIALECT`` in ``gx_checks``)."""

from duckdb_engine import Dialect


class AutocommitDuckDBDialect(Dialect):
    """duckdb-engine with no transaction of its own: each statement commits by itself, so
    closing a connection rolls nothing back and a query's rows outlive it.

    Only for readers: a writer would want its statements in one transaction."""

    def do_begin(self, dbapi_connection: object) -> None:
        pass

    def do_rollback(self, dbapi_connection: object) -> None:
        pass

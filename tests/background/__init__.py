"""Background mode with real processes: web servers, ``db_worker`` processes and an ASGI
server on PostgreSQL and Redis, talking to a stand-in Upsolve over real HTTP."""

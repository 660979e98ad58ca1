"""The request-path bench's own pieces: a stand-in Upsolve, a small Django site run in each
of the four configurations, the processes it runs on, and the clients that load it.

Run it with ``python bench/request_path.py``; see that file for what is measured.
"""

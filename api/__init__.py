"""The carealloc service and command line: REST API, persistence, background jobs, settings
and the ``carealloc`` CLI. It joins ``geodata`` (travel times) to ``allocator`` (decisions).
"""

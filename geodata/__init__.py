"""Geography and travel for carealloc: framework lots, the gazetteer, the road and ferry
network and travel-time matrices. Embedded Argyll and Bute data lives under ``geodata/data``.

It imports nothing from ``allocator`` or ``api``.
"""

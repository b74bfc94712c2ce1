"""The services: the only place where the database and the engine meet.

Four packages, each importing only those before it (tests/services/test_layout.py proves it):

- ``core``        what every service stands on: the runtime (engine, forms, clock), the unit of work,
                  business keys, form definitions, catalogues, notices, keyword search;
- ``governance``  who may do what and what was done: audit log, replay, service levels, users, permissions;
- ``registries``  the records processes read and write: CMDB, KEDB, knowledge base, attachments, pickers;
- ``workflow``    process instances: the command pipeline and its steps, starts, tasks, timers, schedules,
                  messages, form input, deployment.

``errors`` holds the domain errors all of them raise; app/errors.py maps them to HTTP in one place. Code
outside app/services imports only the names each package's ``__init__`` exports (its ``__all__``).
"""

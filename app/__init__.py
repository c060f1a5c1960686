"""The composition root: the command line, the runner, the operations commands, offline cleaning.

The only package that imports the stages side by side. Layers, bottom to top: `wiredesk` (the
shared core) < `ingest`, `transform`, `sinks` (the stages, which never import each other) <
`app`. tests/unit/test_layers.py keeps it so.
"""

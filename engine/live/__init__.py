"""Live sessions: a meeting transcribed while it happens.

``events`` (what subscribers receive), ``options`` (what a session does besides recognition),
``event_log`` (events as JSON lines), ``file_source`` (a file played as a microphone),
``wall_time`` (session audio time -> Unix time), ``session`` (capture -> recorder -> recognizer
-> speakers -> chapters) and ``worker`` (a session in a child process, for the window). Nothing
is imported here, so reading events does not load the session's machinery.
"""

"""Zendesk link: every escalation event becomes an internal note on its Zendesk ticket, with the configured
custom fields and tags kept current.

queue.queue_event_note   queues a job in the transaction of the state change (status 'local' without [zendesk])
worker.drain             carries due jobs out (429 Retry-After, back-off, dead letters, never twice)
check.check_connection   `mailgate check`: reachable, credentials work
notes / fields           the note texts; the fields and tags
client                   the thin httpx client (why not zenpy: see its docstring)
"""

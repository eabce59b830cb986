"""Zendesk link (skeleton; the Zendesk issue completes it with the client and worker)."""

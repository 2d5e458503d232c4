"""Lambda handlers: torch-free, each a plain ``handler(event, context)`` over library functions."""

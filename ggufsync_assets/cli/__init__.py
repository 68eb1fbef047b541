"""The `ggufsync` command: thin verbs that parse arguments, call the library, print results."""

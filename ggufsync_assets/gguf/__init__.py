"""Reading GGUF files: what their names and their headers say about a model."""

"""graphs room."""

"""Pure numpy analyses of multi-modal embeddings. Nothing here imports torch or touches files."""

"""Where embeddings come from: open_clip models, precomputed arrays, or similarity (Gram) matrices.

Every source returns an `EmbeddingSet` of L2-normalized blocks in the dataset's modality order.
"""

"""Runtime retrieval: the e5 embedder, BM25, their fusion, the answer/ask-back/decline decision and index loading.

Reads index folders only: never the store or indexing (a `make lint` contract). Action-server side (torch, FAISS).
"""

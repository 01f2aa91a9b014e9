"""Pure per-turn logic: the answer to a question (answers), the step-by-step guide, printable pages, feedback,
the warning about shared secrets (safety, safe_reply) and flood control.

Plain data in, texts and buttons out; no Rasa, Sanic or channel imports. Imports core, knowledge and search types.
"""

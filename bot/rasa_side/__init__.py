"""What runs inside the Rasa server (.venv-rasa, Python 3.10): the input channels (channels/) named in
credentials.yml, and the NLU components (nlu/) named in config.yml.

Never imports torch, FAISS, search or indexing (a `make lint` contract); may import core, store, handoff, team,
replies and messengers.
"""

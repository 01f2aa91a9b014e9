"""Everything that builds what search serves: the e5 conversion and fine-tune, index build and publish, following
the store's live release, calibration of the decision bars, and the NLU examples exported from the knowledge.

Action-server side and set-up; may import core, knowledge, store and search.
"""

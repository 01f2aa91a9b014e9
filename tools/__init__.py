"""Launchers used by tests, benches and `make run`: start Rasa and the action server on free ports (launch) and
warm the action server up (warmup). Not imported by the product's code."""

# Vietnamese public-services assistant. `make help` lists the targets.
SHELL := /bin/bash
ACT := .venv-actions/bin/python
RASA := .venv-rasa/bin/rasa
NLU_GEN := .cache/nlu/knowledge_questions.yml
QUESTIONS ?= tests/data/questions.jsonl
URL ?= http://127.0.0.1:5005/webhooks/rest/webhook
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: help setup run test index nlu train validate validate-kb shell telegram eval eval-real eval-conversations bench bench-followups bench-load bench-faiss bench-faults bench-scaled moodbot calibrate clean kb admin db-upgrade lint run-scaled

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## build both Python environments and the e5 model (idempotent)
	@bash scripts/setup.sh

validate-kb: setup ## check the knowledge files
	$(ACT) -m bot.knowledge.validate knowledge

index: setup ## sync knowledge/ into the knowledge store and publish it (index built or reused)
	$(ACT) -m bot.indexing.build

nlu: index ## generate ask_question examples from the knowledge store (seeded from knowledge/)
	$(ACT) -m bot.indexing.nlu_export $(NLU_GEN)

train: nlu ## train the Rasa model (skipped by Rasa when nothing changed)
	$(RASA) train --data data $(dir $(NLU_GEN)) --out models --num-threads 2

validate: nlu ## rasa data validate
	$(RASA) data validate --data data $(dir $(NLU_GEN)) --fail-on-warnings

run: index train ## set up, build, train, and start the bot (REST on :5005)
	@bash scripts/run.sh

run-scaled: train ## HAProxy, two Rasa servers (PostgreSQL tracker store, Redis lock store), two action servers (docs/scaling.md)
	@bash scripts/run_scaled.sh

shell: index train ## talk to the bot in this terminal (rasa shell with the action server)
	@bash scripts/run.sh shell

lint: setup ## ruff (rules in pyproject.toml) on bot, actions, bench, tests, tools; mypy on bot and actions; the layering contracts
	.venv-actions/bin/ruff check bot actions bench tests tools
	.venv-actions/bin/mypy
	PYTHONPATH=. .venv-actions/bin/lint-imports

test: index train moodbot ## run every test: units, Rasa data and stories, end-to-end over REST
	$(ACT) -m pytest -ra

db-upgrade: setup ## upgrade the store (BOT_STORE_URL, default .cache/store.db) to the newest migration
	$(ACT) -m bot.store.migrate upgrade

kb: setup ## knowledge-base CLI: make kb ARGS="list --topic vneid" (python -m bot.admin --help)
	$(ACT) -m bot.admin $(ARGS)

admin: index ## start the admin page (needs BOT_ADMIN_ENABLED=1 and an account)
	$(ACT) -m bot.admin.web

telegram: setup ## start the Telegram relay (needs TELEGRAM_BOT_TOKEN, RELAY_SECRET and make run with the same RELAY_SECRET)
	$(ACT) -m bot.relay

eval: ## grade a running bot: make eval QUESTIONS=file.jsonl [URL=...]
	$(ACT) -m bench.grade $(URL) $(QUESTIONS)

eval-real: ## grade a running bot on the real residents' questions by the entry answered [URL=...]
	$(ACT) -m bench.real --url $(URL) --misses tests/data/real_dev.jsonl tests/data/real_test.jsonl tests/data/real_short_dev.jsonl tests/data/real_short_dev2.jsonl tests/data/real_short_test.jsonl

eval-conversations: index train ## multi-turn conversations over REST on a bot of its own, with and without context; writes bench/conversations.md
	$(ACT) -m bench.conversations

bench: index train ## accuracy, retrieval baselines, latency and memory; writes bench/ report
	$(ACT) -m bench.run

bench-followups: index ## short follow-ups answered with and without the last answer as context; writes bench/followups.md
	$(ACT) -m bench.followups

moodbot: setup ## train rasa init's moodbot, the floor of make bench-load (once per Rasa version, kept in .cache/moodbot)
	$(ACT) -m bench.moodbot

bench-load: index train moodbot ## our bot beside Rasa's moodbot under load, 1/5/20/50 residents (QUICK=1: 1 and 5, 10 s); bench/load.*
	$(ACT) -m bench.load $(if $(QUICK),--quick --out .cache/faiss_quick)

bench-faiss: index ## exact vs IVF vs HNSW search at 10k/100k/1M vectors, real ones mixed in (SIZES=10000,100000; QUICK=1); bench/faiss_scale.*
	nice -n 10 $(ACT) -m bench.faiss_scale $(if $(SIZES),--sizes $(SIZES)) $(if $(QUICK),--quick --out .cache/faiss_quick)

bench-faults: train ## 20 residents on the scaled set-up while a Rasa server, an action server and Redis are killed and restarted; bench/faults.*
	$(ACT) -m bench.faults

bench-scaled: train ## the scaled set-up against the default one at 20 and 50 residents, same run; bench/scaled_load.*
	$(ACT) -m bench.scaled_load

calibrate: index ## fit the confidence model and its answer/ask-back bars on our own sets, real_dev and real_short_dev
	$(ACT) -m bot.indexing.calibrate tests/data/questions.jsonl tests/data/questions_fresh.jsonl tests/data/real_dev.jsonl tests/data/real_short_dev.jsonl

.PHONY: lock
# After changing a requirements file: install it into the working environment (without the old lock, which would
# refuse a moved version), then pin what is installed. setup.sh installs with -c <lock> on every other machine.
lock: ## refresh requirements-actions.lock and requirements-rasa.lock from the environments (after editing requirements*.txt)
	$(ACT) -m pip install -q -r requirements-actions.txt -r requirements-dev.txt
	$(ACT) scripts/lock.py requirements-actions.lock requirements-actions.txt requirements-dev.txt
	.venv-rasa/bin/python -m pip install -q -r requirements.txt
	.venv-rasa/bin/python scripts/lock.py requirements-rasa.lock requirements.txt

.PHONY: rasa-test
rasa-test: train ## Rasa's own tests from the repo root: tests/test_stories.yml, and NLU on a held-out 20 % split
	@bash scripts/rasa_test.sh

clean: ## remove built artefacts (keeps the environments)
	rm -rf .cache/index .cache/nlu models

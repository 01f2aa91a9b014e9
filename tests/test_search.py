"""Search over a small real FAISS index (fake embedder), the cache, and hot swapping."""

import os
import threading
import time

import pytest

from bot.search import service as service_mod
from bot.search.decide import Thresholds, decide
from bot.search.hybrid import HybridSearcher
from bot.search.index import POINTER, build_index, current_path, fingerprint, load_index
from bot.search.service import SearchService
from tests.conftest import make_entry


@pytest.fixture
def built(tmp_path, small_entries, fake_embedder):
    path = build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False)
    return load_index(path)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("quen mk vneid", "vneid-quen-mat-khau"),
        ("Tôi quên mật khẩu", "vneid-quen-mat-khau"),
        ("kich hoat tai khoan", "vneid-kich-hoat"),
        ("tra cứu hđđt", "hoa-don-tra-cuu"),
    ],
)
def test_hybrid_finds_entry_with_and_without_accents(built, fake_embedder, query, expected):
    result = HybridSearcher(built, fake_embedder).search(query)
    assert result.top.entry.id == expected
    assert result.coverage > 0.4


def test_query_without_words_gives_no_hits(built, fake_embedder):
    assert HybridSearcher(built, fake_embedder).search("😀😀 ???").hits == []


def test_index_is_cached_by_content_and_model(tmp_path, small_entries, fake_embedder):
    first = build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False)
    stamp = (first / "meta.json").stat().st_mtime_ns
    assert build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False) == first
    assert (first / "meta.json").stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert fingerprint(small_entries, "other-model") != fingerprint(small_entries, "fake")
    changed = build_index(small_entries[:2], fake_embedder, "fake", tmp_path, progress=False)
    assert changed != first and current_path(tmp_path) == changed


def test_pointer_is_replaced_atomically_and_no_temp_left(tmp_path, small_entries, fake_embedder):
    build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert (tmp_path / POINTER).read_text().strip() == current_path(tmp_path).name


def test_service_picks_up_a_new_index_without_restart(tmp_path, small_entries, fake_embedder, monkeypatch):
    monkeypatch.setattr(service_mod, "CHECK_EVERY_S", 0.0)
    build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False)
    svc = SearchService(tmp_path, fake_embedder, Thresholds())
    before = svc.searcher()
    assert "dich-vu-cong-nop-ho-so" not in before.by_id
    new = make_entry("dich-vu-cong-nop-ho-so", "Nộp hồ sơ trực tuyến",
                     ["nộp hồ sơ", "nop ho so online", "gửi hồ sơ", "nop ho so dvc"])
    time.sleep(0.01)  # distinct mtime for the pointer
    build_index([*small_entries, new], fake_embedder, "fake", tmp_path, progress=False)
    release = threading.Event()
    real_load = service_mod.load_index
    monkeypatch.setattr(service_mod, "load_index", lambda path: release.wait(10) and real_load(path))
    assert svc.searcher() is before  # the new index loads in the background; requests keep the old one
    assert svc.searcher() is before
    release.set()
    svc.wait_for_reload()
    after = svc.searcher()
    assert after is not before and "dich-vu-cong-nop-ho-so" in after.by_id
    assert before.search("quen mk").top.entry.id == "vneid-quen-mat-khau"  # old one still usable


def test_service_keeps_serving_when_new_index_is_broken(tmp_path, small_entries, fake_embedder, monkeypatch):
    monkeypatch.setattr(service_mod, "CHECK_EVERY_S", 0.0)
    build_index(small_entries, fake_embedder, "fake", tmp_path, progress=False)
    svc = SearchService(tmp_path, fake_embedder, Thresholds())
    good = svc.searcher()
    broken = tmp_path / "broken"
    broken.mkdir()
    (tmp_path / POINTER).write_text("broken\n")
    os.utime(tmp_path / POINTER, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert svc.searcher() is good
    svc.wait_for_reload()
    assert svc.searcher() is good


def test_service_without_index_raises_clearly(tmp_path, fake_embedder):
    with pytest.raises(FileNotFoundError, match="make index"):
        SearchService(tmp_path, fake_embedder, Thresholds()).searcher()


def test_decide_uses_cosine_plus_weighted_coverage(built, fake_embedder):
    result = HybridSearcher(built, fake_embedder).search("quên mật khẩu vneid")
    conf = result.top.cosine + 0.1 * result.coverage
    assert decide(result, Thresholds(0.1, conf - 0.001, 2.0)).answer
    assert not decide(result, Thresholds(0.1, conf + 0.001, 2.0)).answer
    assert not decide(result, Thresholds(0.1, 0.0, conf + 0.001), out_of_scope=True).answer
    assert decide(result, Thresholds(0.1, 2.0, conf - 0.001), out_of_scope=True).answer


def test_coverage_separates_domain_phrases_from_common_syllables(built, fake_embedder):
    searcher = HybridSearcher(built, fake_embedder)
    assert searcher.search("quen mat khau vneid").coverage == 1.0
    assert searcher.search("hôm nay trời mưa không").coverage < 0.3


def test_thresholds_load_from_file(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text('{"thresholds": {"min_confidence": 0.9, "unknown": 1}}')
    assert Thresholds.load(path).min_confidence == 0.9
    assert Thresholds.load(tmp_path / "missing.json") == Thresholds()

"""Settings: the environment names of the contract, TOML, derived paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from writers_room.config import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bare field names in the environment are not settings ($HOME is not the room's home).
    monkeypatch.setenv("HOME", "/somewhere")
    monkeypatch.setenv("DEVICE", "cuda")
    monkeypatch.setenv("LLM", "openai")
    s = Settings()
    assert s.home == Path("./room-data")
    assert s.llm == "offline" and s.llm_model == "gpt-4o-mini"
    assert s.device == "auto" and s.render_backend == "local"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.approvers == [] and s.showrunners == []
    assert s.sqlalchemy_url.endswith("room-data/room.db")


def test_contract_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "WRITERS_ROOM_HOME": str(tmp_path),
        "WRITERS_ROOM_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "WRITERS_ROOM_CHROMA_URL": "http://chroma:8000",
        "WRITERS_ROOM_LLM": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://llm:8080/v1",
        "WRITERS_ROOM_LLM_MODEL": "qwen",
        "WRITERS_ROOM_DIFFUSION_MODEL": "/models/sdxl-turbo",
        "WRITERS_ROOM_DEVICE": "cuda",
        "WRITERS_ROOM_RENDER_BACKEND": "ray",
        "WRITERS_ROOM_RAY_ADDRESS": "ray://head:10001",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9999/api/",
        "WRITERS_ROOM_APPROVERS": "U1, U2,,U3",
        "WRITERS_ROOM_SHOWRUNNERS": "U9",
        "WRITERS_ROOM_CHANNEL": "C123",
        "WRITERS_ROOM_FONTS": f"/fonts/NotoSansCJK.ttc#2{os.pathsep} /fonts/extra.ttf",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = Settings()
    assert s.home == tmp_path
    assert s.sqlalchemy_url == "postgresql+psycopg://u@h/db"
    assert s.chroma_url == "http://chroma:8000"
    assert (s.llm, s.openai_api_key, s.openai_base_url, s.llm_model) == (
        "openai",
        "sk-test",
        "http://llm:8080/v1",
        "qwen",
    )
    assert (s.diffusion_model, s.device, s.render_backend, s.ray_address) == (
        "/models/sdxl-turbo",
        "cuda",
        "ray",
        "ray://head:10001",
    )
    assert (s.slack_bot_token, s.slack_signing_secret, s.slack_app_token) == (
        "xoxb-1",
        "sig",
        "xapp-1",
    )
    assert s.slack_api_url == "http://127.0.0.1:9999/api/"
    assert s.approvers == ["U1", "U2", "U3"]
    assert s.approver_set(["U7"]) == {"U1", "U2", "U3", "U7"}
    assert s.showrunners == ["U9"] and s.channel == "C123"
    assert s.fonts == ["/fonts/NotoSansCJK.ttc#2", "/fonts/extra.ttf"]
    assert "sk-test" not in repr(s) and "sig" not in repr(s)


def test_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "writers-room.toml").write_text('llm_model = "from-toml"\napprovers = ["U5"]\n')
    assert Settings().llm_model == "from-toml"
    monkeypatch.setenv("WRITERS_ROOM_LLM_MODEL", "from-env")
    s = Settings()
    assert s.llm_model == "from-env" and s.approvers == ["U5"]


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRITERS_ROOM_DEVICE", "tpu")
    with pytest.raises(ValueError, match="WRITERS_ROOM_DEVICE"):
        Settings()


def test_author_key_is_created_once(tmp_path: Path) -> None:
    first = Settings(home=tmp_path).author_key
    assert Settings(home=tmp_path).author_key == first
    assert (tmp_path / ".pii_key").stat().st_mode & 0o777 == 0o600

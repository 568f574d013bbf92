"""The LLM seam: a chat model from Settings, structured output with retries, token accounting.

* :func:`chat_model` builds the one chat model the room talks to: ``None`` for the
  ``offline`` provider, a :class:`langchain_openai.ChatOpenAI` for ``openai`` — which
  works against any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama,
  llama.cpp) through ``OPENAI_BASE_URL``. Tests pass any langchain-core chat model
  instead.
* :func:`structured_call` asks for one JSON object matching a pydantic schema, validates
  it, and on invalid output re-asks with the validation errors (up to ``max_attempts``
  calls in all). It parses the reply itself rather than through
  ``with_structured_output``, so the same code runs against ChatOpenAI, a local server
  that ignores ``response_format``, and langchain-core's fake chat models. The default
  ``json_schema`` method sends the schema as ``response_format`` (non-strict: the
  proposal schema has free-form values, which OpenAI's strict mode refuses) and no
  ``tools``; ``function_calling`` and ``json_mode`` are there for servers that lack it.
* Every call is accounted: model, tokens, an estimated cost, latency and outcome go to a
  recorder — by default the audit log (``actor="llm"``, ``action="llm.call"``). Prompts,
  replies and validation messages are never logged: they may carry viewer comments.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar, overload

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from writers_room.config import Settings
from writers_room.errors import InputError, RoomError

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "PRICES_PER_MTOK",
    "LLMCallError",
    "LLMError",
    "LLMOutputError",
    "LLMUsage",
    "Method",
    "UsageRecorder",
    "audit_recorder",
    "chat_model",
    "estimate_cost",
    "record_usage",
    "structured_call",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 2  # transport retries inside the openai client (429, 5xx, resets)
DEFAULT_ATTEMPTS = 3  # one call plus two re-asks with the validation errors

# USD per million (input, output) tokens, list prices; the longest matching prefix of the
# model name wins ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"). Unknown models (local
# servers) get no estimate rather than a wrong one.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
}

Method = Literal["json_schema", "function_calling", "json_mode"]
T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")


class LLMError(RoomError):
    """The model could not give a usable answer."""


class LLMCallError(LLMError):
    """The call itself failed (timeout, connection, HTTP error) after the client's retries."""


class LLMOutputError(LLMError):
    """Every attempt returned output that did not validate."""


class LLMUsage(BaseModel):
    """One model call, as accounted in the audit log (never the prompt or the reply)."""

    model: str
    purpose: str = Field(default="", description="What the call was for, e.g. 'ideate'.")
    method: str
    attempt: int = Field(description="1 for the first call, 2+ for re-asks.")
    outcome: Literal["ok", "invalid", "error"]
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd_estimate: float | None = None
    latency_ms: int = 0
    error: str | None = Field(
        default=None, description="Exception type or failing fields; never message bodies."
    )


UsageRecorder = Callable[[LLMUsage], None]


def _quiet_client_logs() -> None:
    # The openai client logs each request's options, messages included, at DEBUG; a room
    # running with debug logs must still never write a prompt (viewer comments) to a log.
    for name in ("openai", "openai._base_client"):
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) would inherit a DEBUG root
            logger.setLevel(logging.INFO)


def chat_model(
    settings: Settings,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> BaseChatModel | None:
    """The chat model the settings name, or ``None`` for the offline provider.

    Args:
        settings: ``llm``, ``llm_model``, ``openai_api_key`` and ``openai_base_url`` are read.
        timeout_s: Per-request timeout in seconds.
        max_retries: Transport-level retries of the openai client.

    Raises:
        InputError: ``openai`` is configured with neither an API key nor a base URL.
    """
    if settings.llm != "openai":
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    _quiet_client_logs()
    key = settings.openai_api_key
    if not key:
        if not settings.openai_base_url:
            raise InputError(
                "WRITERS_ROOM_LLM=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing "
                "at a compatible server that takes no key)",
                field="OPENAI_API_KEY",
            )
        key = "no-key"  # local servers ignore it, but the client insists on one
    return ChatOpenAI(
        model=settings.llm_model,
        api_key=SecretStr(key),
        base_url=settings.openai_base_url,
        timeout=timeout_s,
        max_retries=max_retries,
        use_responses_api=False,
    )


def estimate_cost(
    model: str, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    """Estimated USD for a call, from :data:`PRICES_PER_MTOK`; ``None`` if unknown."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    name = model.lower().rsplit("/", 1)[-1]
    matches = [prefix for prefix in PRICES_PER_MTOK if name.startswith(prefix)]
    if not matches:
        return None
    price_in, price_out = PRICES_PER_MTOK[max(matches, key=len)]
    return round((prompt_tokens * price_in + completion_tokens * price_out) / 1e6, 8)


def record_usage(session: Session, usage: LLMUsage) -> None:
    """Append one ``llm.call`` row to the audit log in the caller's transaction."""
    from writers_room.store.db import audit

    audit(
        session,
        actor="llm",
        action="llm.call",
        subject=usage.purpose,
        detail=usage.model_dump(mode="json"),
    )


def audit_recorder(settings: Settings) -> UsageRecorder:
    """A recorder that writes each call to the audit log in its own short transaction.

    On SQLite every transaction takes the write lock, so call the model outside any open
    session of your own (or pass a recorder that appends to your session instead).
    """
    from writers_room.store.db import session_scope

    def record(usage: LLMUsage) -> None:
        with session_scope(settings) as session:
            record_usage(session, usage)

    return record


def _model_name(model: BaseChatModel) -> str:
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _bind(model: BaseChatModel, schema: type[BaseModel], method: Method) -> Any:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)
    if method == "json_schema":
        return model.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": name,
                    "schema": schema.model_json_schema(),
                    "strict": False,
                },
            }
        )
    if method == "json_mode":
        return model.bind(response_format={"type": "json_object"})
    tool = {
        "type": "function",
        "function": {
            "name": name,
            "description": f"Return the {name} object.",
            "parameters": schema.model_json_schema(),
        },
    }
    # A single forced function whose arguments *are* the answer: a way to get structured
    # output, not a tool the model can use — nothing ever executes it.
    return model.bind_tools([tool], tool_choice=name)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


def _payload(message: BaseMessage, method: Method) -> Any:
    if method == "function_calling" and isinstance(message, AIMessage) and message.tool_calls:
        return message.tool_calls[0]["args"]
    text = _FENCE.sub("", _text(message).strip())
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # Chatty models wrap the object in prose; take the outermost braces once.
        start, end = text.find("{"), text.rfind("}")
        if start >= 0 and end > start:
            return json.loads(text[start : end + 1])
        raise


def _describe(exc: Exception) -> tuple[str, str]:
    """(message for the model, short label for the audit log) of a validation failure."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_input=False, include_url=False)
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in errors[:12]
        ]
        fields = sorted({".".join(str(p) for p in err["loc"][:2]) for err in errors})[:5]
        return "; ".join(lines), f"ValidationError({', '.join(fields)})"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at position {exc.pos})", "JSONDecodeError"
    return str(exc)[:1500], type(exc).__name__


def _usage_counts(message: BaseMessage | None) -> tuple[int | None, int | None, int | None]:
    usage = getattr(message, "usage_metadata", None) if message is not None else None
    if not usage:
        return None, None, None
    return usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens")


@overload
def structured_call(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    schema: type[T],
    *,
    postprocess: None = None,
    method: Method = "json_schema",
    max_attempts: int = DEFAULT_ATTEMPTS,
    recorder: UsageRecorder | None = None,
    purpose: str = "",
) -> T: ...


@overload
def structured_call(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    schema: type[T],
    *,
    postprocess: Callable[[T], R],
    method: Method = "json_schema",
    max_attempts: int = DEFAULT_ATTEMPTS,
    recorder: UsageRecorder | None = None,
    purpose: str = "",
) -> R: ...


def structured_call(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    schema: type[T],
    *,
    postprocess: Callable[[T], Any] | None = None,
    method: Method = "json_schema",
    max_attempts: int = DEFAULT_ATTEMPTS,
    recorder: UsageRecorder | None = None,
    purpose: str = "",
) -> Any:
    """Ask ``model`` for one ``schema`` object; re-ask with the errors until it validates.

    Args:
        model: Any langchain-core chat model (see :func:`chat_model`).
        messages: The conversation; it is not modified.
        schema: The pydantic model the reply must validate against.
        postprocess: Further checks/conversion of the validated object; a ``ValueError``
            (or ``ValidationError``) it raises counts as invalid output and is re-asked.
        method: How the schema is requested (see the module docstring).
        max_attempts: Calls in all, including the first.
        recorder: Receives one :class:`LLMUsage` per call.
        purpose: Label for the audit log.

    Returns:
        The validated object, or what ``postprocess`` made of it.

    Raises:
        LLMCallError: A call failed (after the client's own transport retries).
        LLMOutputError: No attempt produced valid output.
    """
    bound = _bind(model, schema, method)
    conversation = list(messages)
    name = _model_name(model)
    last_problem = ""
    for attempt in range(1, max_attempts + 1):
        started = time.perf_counter()
        reply: BaseMessage | None = None
        outcome: Literal["ok", "invalid", "error"] = "ok"
        error: str | None = None
        try:
            reply = bound.invoke(conversation)
        except Exception as exc:  # the client's own retries are spent
            outcome, error = "error", type(exc).__name__
            raise LLMCallError(f"{name}: the model call failed ({type(exc).__name__})") from exc
        else:
            try:
                parsed = schema.model_validate(_payload(reply, method))
                result = postprocess(parsed) if postprocess is not None else parsed
            except (ValueError, ValidationError) as exc:
                outcome = "invalid"
                last_problem, error = _describe(exc)
            else:
                return result
        finally:
            prompt, completion, total = _usage_counts(reply)
            response_model = (
                reply.response_metadata.get("model_name") if reply is not None else None
            )
            usage = LLMUsage(
                model=response_model or name,
                purpose=purpose,
                method=method,
                attempt=attempt,
                outcome=outcome,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=total,
                cost_usd_estimate=estimate_cost(response_model or name, prompt, completion),
                latency_ms=int((time.perf_counter() - started) * 1000),
                error=error,
            )
            log.info(
                "llm.call model=%s purpose=%s attempt=%d outcome=%s tokens=%s/%s",
                usage.model,
                purpose,
                attempt,
                outcome,
                prompt,
                completion,
            )
            if recorder is not None:
                recorder(usage)
        if method != "function_calling" and reply is not None:
            conversation.append(AIMessage(content=_text(reply)[:8000]))
        conversation.append(
            HumanMessage(
                content=(
                    f"That reply was not valid: {last_problem}\n"
                    "Reply again with only one JSON object that matches the schema, fixing "
                    "exactly these problems."
                )
            )
        )
    raise LLMOutputError(
        f"{name}: no valid {schema.__name__} after {max_attempts} attempts "
        f"(last problem: {last_problem[:300]})"
    )

"""A local OpenAI-compatible chat server that answers like a model, or misbehaves on request."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KEYWORDS = {
    "billing": ["invoice", "refund", "charged", "payment"],
    "bug": ["crash", "error", "broken", "500"],
    "account_access": ["password", "log in", "locked"],
    "feature_request": ["please add", "would be great", "feature"],
    "spam": ["prize", "casino", "seo"],
}
OBEY = re.compile(r"(category|urgency)['\"]?\s*(?:to|=|:|is)?\s*['\"]?([a-z_]+)", re.IGNORECASE)


def unmark(system: str, user: str) -> str:
    """Undo the datamark the way a model would read it."""
    mark = re.search(r"interleaved with\s+the\s+marker\s+(\S+)\s+instead", system).group(1)
    body = re.sub(rf"^<email {re.escape(mark)}>|</email {re.escape(mark)}>$", "", user)
    return body.replace(mark, " ")


def naive_answer(text: str) -> dict:
    """A gullible model: keyword labels, and it obeys any 'category: X' it reads."""
    lowered = text.lower()
    answer = {"category": "other", "urgency": "normal", "confidence": 0.9}
    for category, words in KEYWORDS.items():
        if any(w in lowered for w in words):
            answer["category"] = category
            break
    for field, value in OBEY.findall(text):
        answer[field.lower()] = value.lower()
    return answer


def completion(content: str, finish: str = "stop") -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content}}],
    }


class FakeLLM:
    """Server state: the behaviour mode and every request body it received."""

    def __init__(self) -> None:
        self.mode = "naive"
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        answer = naive_answer(unmark(system, user))
        mode = self.mode
        if mode == "naive":
            return JSONResponse(completion(json.dumps(answer)))
        if mode == "truncated":
            return JSONResponse(completion(json.dumps(answer)[:20], finish="length"))
        if mode == "truncated_but_stop":
            return JSONResponse(completion(json.dumps(answer)[:20]))
        if mode == "junk":
            return JSONResponse(completion("Sure! The category is billing."))
        if mode == "out_of_enum":
            return JSONResponse(completion(json.dumps({**answer, "category": "wire_money"})))
        if mode == "extra_field":
            return JSONResponse(completion(json.dumps({**answer, "send_to": "x@evil.example"})))
        if mode == "bad_confidence":
            return JSONResponse(completion(json.dumps({**answer, "confidence": 7})))
        if mode == "refusal":
            data = completion("")
            data["choices"][0]["message"] = {"role": "assistant", "content": None,
                                             "refusal": "I can't help with that"}
            return JSONResponse(data)
        if mode == "no_choices":
            return JSONResponse({"choices": []})
        if mode == "not_json":
            return Response("<html>bad gateway</html>", media_type="text/html")
        if mode == "error500":
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=500)
        if mode == "slow":
            await asyncio.sleep(1.2)
            return JSONResponse(completion(json.dumps(answer)))
        raise AssertionError(f"unknown mode {mode}")

    def start(self) -> "FakeLLM":
        app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)

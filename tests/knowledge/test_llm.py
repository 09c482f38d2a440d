"""Optional LLM synthesis against a small fake OpenAI-compatible endpoint on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from knowledge.config import load_settings
from knowledge.engine import Engine

DOC = "# Take rates\n\n## USDC\nThe take rate on USDC leases is 20% of lease payments.\n\n## AKT\nThe AKT take rate is 4%."


class FakeLLM:
    """Answers chat completions with a scripted reply; records the requests."""

    def __init__(self) -> None:
        self.reply: object = "USDC leases pay a 20% take rate [1]."
        self.status = 200
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if fake.reply == "SLOW":
                    threading.Event().wait(2.0)
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": fake.reply}}]})
                data = payload.encode() if fake.status == 200 else b"oops"
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout case)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def llm():
    fake = FakeLLM()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def engine(tmp_path, llm):
    settings = load_settings(db_path=tmp_path / "kb.db", embedder="hash", llm_url=llm.url, llm_model="tiny",
                             llm_api_key="sk-test-secret", llm_timeout_s=0.5)
    eng = Engine(settings)
    eng.ingest_text(DOC, title="Take rates", actor="mod", protocol="akash")
    return eng


def test_grounded_reply_with_citations_replaces_the_extract(engine, llm):
    answer = engine.ask("what is the take rate on USDC leases?")
    assert answer.answer == "USDC leases pay a 20% take rate [1]."
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["body"]["model"] == "tiny"
    assert request["auth"] == "Bearer sk-test-secret"
    prompt = request["body"]["messages"][1]["content"]
    assert "[1] Take rates" in prompt and "20%" in prompt  # the passages go to the model, numbered


@pytest.mark.parametrize("reply,status", [
    ("USDC leases pay 20%.", 200),          # cites nothing
    ("See [7] for details.", 200),          # cites a passage that does not exist
    ("USDC pays 20% [1, 7].", 200),         # a grouped marker naming one that does not exist
    ("USDC pays 20% [1-9].", 200),          # a run of them
    ("NOT IN SOURCES", 200),                # the model says the passages lack it
    (None, 200),                            # malformed content
    ("fine [1]", 500),                      # endpoint error
    ("SLOW", 200),                          # timeout
])
def test_any_bad_reply_falls_back_to_the_extractive_answer(engine, llm, reply, status, caplog):
    llm.reply, llm.status = reply, status
    answer = engine.ask("what is the take rate on USDC leases?")
    assert not answer.declined
    assert "The take rate on USDC leases is 20% of lease payments. [1]" in answer.answer
    assert "sk-test-secret" not in caplog.text


def test_a_reply_citing_passages_in_a_group_is_accepted(engine, llm):
    llm.reply = "USDC leases pay a 20% take rate [1, 1]."
    assert engine.ask("what is the take rate on USDC leases?").answer == "USDC leases pay a 20% take rate [1, 1]."


def test_synthesis_is_off_without_url_and_model(tmp_path, llm):
    eng = Engine(load_settings(db_path=tmp_path / "kb.db", embedder="hash", llm_url=llm.url, llm_model=""))
    eng.ingest_text(DOC, title="Take rates", actor="mod", protocol="akash")
    eng.ask("what is the take rate on USDC leases?")
    assert llm.requests == []

"""Neither the API key nor a full token ever reaches a log line, an exception or the profile.

One pass through every fault (the scripted table and the socket-level faults), each at the
client and through a login, with all log output captured at DEBUG (every logger, urllib3
included) and Upsolve echoing the key and tokens back in its answers. Two key shapes: an
admin key, which the redaction patterns know, and one without a known prefix, which only
the client's own knowledge of its key can redact.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from django_upsolve import breaker, budget, signals
from django_upsolve.budget import CallPolicy
from django_upsolve.client import get_client
from django_upsolve.exceptions import UpsolveError
from django_upsolve.models import UpsolveProfile
from tests.helpers import log_in, make_user, override_upsolve
from tests.reliability.cases import CASES
from tests.reliability.faultserver import (
    Close,
    Drip,
    FaultServer,
    Huge,
    Respond,
    Stall,
    refused_port,
)
from tests.reliability.helpers import JWT

pytestmark = pytest.mark.django_db

USER = "8a2f6c1e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
DEADLINE = 1.0  # short, for the stalls; long enough for a loaded CI machine to answer


def echoes(key: str, token: str) -> dict[str, Respond]:
    """Answers of an upstream that repeats what it should never repeat."""
    return {
        "5xx echoing the request": Respond(
            502, f"<pre>Authorization: Bearer {key}\napiKey={key}\ntoken={token}</pre>"
        ),
        "422 naming values": Respond(
            422, {"errors": [{"field": "userId", "message": f"{key} {token} is not valid"}]}
        ),
        "409 echoing": Respond(409, {"status": "error", "data": {"apiKey": key, "token": token}}),
        "200 odd status with token": Respond(
            200, {"status": "weird", "data": {"token": token, "key": key}}
        ),
        "bad token that holds the key": Respond(
            200, {"status": "success", "data": {"token": f"{key}.{key}.{key}"}}
        ),
        "404 echoing": Respond(404, {"message": f"user of {key} not found"}),
        "dropped": Close(),
        "stalled": Stall(),
        "dripping": Drip(interval=0.05),
        "huge": Huge(size=2 * 1024 * 1024),
    }


@pytest.fixture
def sync_errors() -> Iterator[list[UpsolveError]]:
    """Every error the service layer reports through ``sync_failed``."""
    errors: list[UpsolveError] = []

    def receiver(sender: object, error: UpsolveError, **kwargs: object) -> None:
        errors.append(error)

    signals.sync_failed.connect(receiver, dispatch_uid="test_secrets")
    yield errors
    signals.sync_failed.disconnect(dispatch_uid="test_secrets")


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it was raised from."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once: this test is about what is written, not about waiting."""
    monkeypatch.setattr(budget, "random", SimpleNamespace(uniform=lambda a, b: 0.0))


@pytest.mark.parametrize("key", ["up_admin_Zx81kQ0pL3vN7sR2tY6u", "legacy-4f1c9e7a2b8d3065a9"])
def test_no_secret_through_any_fault(client, logs, sync_errors, certificate, no_backoff, key):
    errors: list[BaseException] = []
    with (
        FaultServer(api_key=key) as server,
        override_upsolve(API_KEY=key, API_URL=server.api_url, LOGIN_DEADLINE=DEADLINE),
    ):
        ada = make_user("ada")
        log_in(client, "ada")
        client.logout()
        token = UpsolveProfile.objects.get(user=ada).token
        echoed = echoes(key, token)
        faults = {name: case.answers for name, case in CASES.items()}
        faults.update({name: (answer, answer) for name, answer in echoed.items()})
        for answers in faults.values():
            breaker.reset()
            server.clear()
            server.script(*answers, call="user-token")
            try:
                get_client().user_token(
                    user_id=USER,
                    expiration=3600,
                    policy=CallPolicy.within(DEADLINE, max_retries=1),
                )
            except UpsolveError as err:
                errors.append(err)
            breaker.reset()
            server.clear()
            server.script(*answers, call="user-token")
            log_in(client, "ada")
            client.logout()
        secrets = {key, key.split("_")[-1], *server.tokens, token}

    # Socket-level faults: nobody there, a certificate nobody trusts.
    with (
        refused_port() as port,
        override_upsolve(API_KEY=key, API_URL=f"http://127.0.0.1:{port}/v1"),
    ):
        breaker.reset()
        log_in(client, "ada")
    with (
        FaultServer(api_key=key, tls=certificate) as tls,
        override_upsolve(API_KEY=key, API_URL=tls.api_url),
    ):
        breaker.reset()
        log_in(client, "ada")

    failing = sum(case.error is not None for case in CASES.values()) + len(echoed)
    assert len(errors) == failing
    # At login the table's one 404 heals (registered again, then a token); the two socket
    # faults add two.
    assert len(sync_errors) == failing - 1 + 2
    texts = [logs.text, *UpsolveProfile.objects.values_list("last_error", flat=True)]
    for error in itertools.chain(errors, sync_errors):
        texts.extend(f"{link} {link!r}" for link in chain(error))
        texts.append(getattr(error, "body_excerpt", ""))
    texts.append(repr(get_client()))
    for text in texts:
        assert not JWT.search(text)
        for secret in secrets:
            assert secret not in text

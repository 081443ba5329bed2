"""FOCUS bills fetched over HTTP from a real local server, with and without bearer authentication."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kubetally.errors import SourceUnavailable
from kubetally.focus import read_focus_source
from tests.focus_ingest.conftest import SAMPLE_FILES, cloud_rows, csv_rows, csv_total, ingest
from tests.runner import free_port

TOKEN = "s3cret-token"
FILES = {
    "/open/bill.csv": SAMPLE_FILES["gcp-1.3"].read_bytes(),
    "/open/bill.csv.gz": gzip.compress(SAMPLE_FILES["aws-1.2"].read_bytes()),
    "/private/bill.csv": SAMPLE_FILES["azure-1.2"].read_bytes(),
}


class _Handler(BaseHTTPRequestHandler):
    """Serves :data:`FILES`; paths under ``/private/`` need ``Authorization: Bearer TOKEN``."""

    def do_GET(self) -> None:
        body = FILES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if self.path.startswith("/private/") and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_error(401)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the tests read the responses, not the log."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local HTTP server in a thread; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_an_open_url_is_read_and_gzip_is_detected_from_the_bytes(server: str) -> None:
    plain = read_focus_source(f"{server}/open/bill.csv")
    zipped = read_focus_source(f"{server}/open/bill.csv.gz")
    assert plain.version == "1.3"
    assert plain.frame.get_column("source").unique().to_list() == [f"{server}/open/bill.csv"]
    assert zipped.frame.get_column("BilledCost").sum() == pytest.approx(
        csv_total(csv_rows(SAMPLE_FILES["aws-1.2"]), "BilledCost"), abs=1e-6
    )


def test_a_private_url_needs_the_bearer_token(server: str) -> None:
    url = f"{server}/private/bill.csv"
    with pytest.raises(SourceUnavailable, match="401") as raised:
        read_focus_source(url)
    assert url in raised.value.message
    batch = read_focus_source(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert batch.rows == len(csv_rows(SAMPLE_FILES["azure-1.2"]))


def test_missing_and_unreachable_urls_are_source_unavailable(server: str) -> None:
    with pytest.raises(SourceUnavailable, match="404"):
        read_focus_source(f"{server}/open/nothing.csv")
    closed = f"http://127.0.0.1:{free_port()}/bill.csv"
    with pytest.raises(SourceUnavailable, match="cannot be reached") as raised:
        read_focus_source(closed, timeout=2)
    assert closed in raised.value.message


def test_the_cli_sends_the_bearer_token(
    server: str, db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{server}/private/bill.csv"
    refused = ingest(capsys, monkeypatch, db, url)
    assert refused.code == 2
    assert "401" in refused.err
    assert cloud_rows(db).is_empty()
    run = ingest(capsys, monkeypatch, db, url, "--bearer-token", TOKEN)
    assert run.code == 0, run.err
    assert TOKEN not in run.out
    assert cloud_rows(db).get_column("BilledCost").sum() == pytest.approx(
        csv_total(csv_rows(SAMPLE_FILES["azure-1.2"]), "BilledCost"), abs=1e-6
    )


def test_a_missing_local_file_is_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="no such file"):
        read_focus_source(str(tmp_path / "absent.csv"))


def test_a_password_in_the_url_is_not_stored_or_shown(server: str) -> None:
    url = server.replace("http://", "http://reader:hunter2@") + "/open/bill.csv"
    batch = read_focus_source(url)
    assert batch.frame.get_column("source").unique().to_list() == [url.replace("hunter2", "***")]
    with pytest.raises(SourceUnavailable) as raised:
        read_focus_source(url.replace("bill.csv", "absent.csv"))
    assert "hunter2" not in raised.value.message

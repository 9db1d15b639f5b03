"""The virtual printer's journal: one JSON line per job, read by benches in other processes."""

import json
import socket

from print_relay.virtual_printer import VirtualPrinter


def test_each_job_is_journaled_with_the_time_of_its_last_byte_and_its_text(tmp_path):
    journal = tmp_path / "printer.jsonl"
    with VirtualPrinter(journal=journal) as printer:
        for n, text in enumerate(("第一张".encode("gbk"), b"second"), start=1):
            with socket.create_connection((printer.host, printer.port)) as sock:
                sock.sendall(b"\x1b@" + text)
            jobs = printer.wait_for_jobs(n)  # one connection at a time: a known order
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert [entry["text"].strip() for entry in lines] == ["第一张", "second"]
    assert [entry["last_byte_at"] for entry in lines] == [job.last_byte_at for job in jobs]
    assert lines[0]["bytes"] == len(jobs[0].data)


def test_the_preview_shows_the_ticket_text_without_printer_commands():
    from pathlib import Path

    from print_relay import tickets
    from print_relay.virtual_printer import text_preview

    schema = Path(__file__).parents[2] / "docs/schemas/print-job.v1.json"
    message = json.loads(schema.read_text(encoding="utf-8"))["examples"][0]
    text = text_preview(tickets.render(message, "picking", 58))
    assert text.startswith("鲜到家 静安寺店\n拣货联 1/2\n")  # no FS & remnant
    assert f"[QR {message['order_id']}]" in text and "(k" not in text

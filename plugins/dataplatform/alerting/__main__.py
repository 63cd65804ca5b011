"""``python -m dataplatform.alerting flush``: send the alert deliveries waiting in the outbox."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataplatform.alerting import journal
from dataplatform.alerts import OUTBOX_NAME, retry_outbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dataplatform.alerting")
    commands = parser.add_subparsers(dest="command", required=True)
    flush = commands.add_parser("flush", help="re-send the deliveries queued in the outbox")
    flush.add_argument("--alerts-dir", type=Path, help="default: $DATA_DIR/alerts")
    args = parser.parse_args(argv)

    if args.alerts_dir is None:
        from dataplatform.config import load_settings

        args.alerts_dir = load_settings().alerts_file.parent
    delivered = retry_outbox(args.alerts_dir)
    waiting = journal.read(args.alerts_dir / OUTBOX_NAME)
    print(
        f"delivered {delivered}; still queued {len(waiting)} (in {args.alerts_dir / OUTBOX_NAME})"
    )
    for entry in waiting:
        print(f"  {entry['channel']:<8} alert {entry['alert_id']}: {entry['reason']}")
    return 0 if not waiting else 1


if __name__ == "__main__":
    sys.exit(main())

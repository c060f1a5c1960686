"""`wiredesk`: the command line of every service, and of the embedded single-machine default.

The CLI is the composition root: the only place that imports the stages side by side. The stages
themselves never import each other.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO

from wiredesk import __version__
from wiredesk.errors import EX_IOERR, EX_SOFTWARE, EX_UNAVAILABLE, WiredeskError
from wiredesk.settings import Settings, load_settings, redacted

log = logging.getLogger("wiredesk")

# Exit codes the CLI itself gives; every error class carries its own (wiredesk/errors.py). All of
# them are listed in docs/operations.md.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran, but some of its inputs failed or nothing matched
EXIT_USAGE = 2  # argparse's code for a bad command line
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a Unix tool killed by `| head` reports
EXIT_CODES = {
    "ok": EXIT_OK,
    "failed": EXIT_FAILED,
    "usage": EXIT_USAGE,
    "unavailable": EX_UNAVAILABLE,
    "software": EX_SOFTWARE,
    "io": EX_IOERR,
    "interrupted": EXIT_INTERRUPTED,
    "broken_pipe": EXIT_BROKEN_PIPE,
}
DEBUG_HINT = "rerun with WIREDESK_SERVICE_LOG_LEVEL=DEBUG for the traceback"

DESCRIPTION = """\
wiredesk polls news-agency feeds, cleans and enriches every story, and hands the result to
storage, search and anyone subscribed to its Kafka topics:

  feeds.yaml -> ingest -> wiredesk.items.raw -> transform -> wiredesk.articles -> sink -> SQLite/PostgreSQL
                                                    \\-> wiredesk.dlq (poison, with error headers)

With no Kafka bootstrap configured (WIREDESK_KAFKA_BOOTSTRAP), `wiredesk run` starts an embedded
broker and runs all three services in one process over the bundled sample feeds.
Settings: defaults < YAML file (--config or WIREDESK_CONFIG) < WIREDESK_* environment variables;
`wiredesk config --print` shows the effective values.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wiredesk", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"wiredesk {__version__}")
    parser.add_argument("--config", metavar="FILE", help="YAML settings file (also WIREDESK_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run ingest, transform and sink together (embedded broker if no Kafka is configured)",
        description="Run all three services in one process. With no WIREDESK_KAFKA_BOOTSTRAP, start "
        "the embedded broker on a free loopback port, keep SQLite data under the data folder, and "
        "poll the feed registry (--feeds, else ingest.feeds_file, else ./feeds.yaml; with none of "
        "them, the bundled sample feeds, and it says so).",
    )
    run.add_argument(
        "--once", action="store_true", help="exit after one poll cycle has been drained to the sinks"
    )
    run.add_argument("--feeds", metavar="FILE", help="feed registry (default: ingest.feeds_file)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    ingest = sub.add_parser(
        "ingest",
        help="run the ingest service: poll feeds, publish new or changed items",
        description="Poll the feeds in the registry and publish each new or changed "
        "item to the raw topic. Needs WIREDESK_KAFKA_BOOTSTRAP.",
    )
    ingest.add_argument("--once", action="store_true", help="poll every feed once, publish, and exit")
    ingest.add_argument("--feeds", metavar="FILE", help="feed registry (default: ingest.feeds_file)")

    sub.add_parser(
        "transform",
        help="run the transform service: raw items in, articles out",
        description="Consume the raw topic in the <kafka.group_prefix>-transform group "
        "(wiredesk-transform by default), clean and enrich each item, publish articles; poison "
        "goes to the dead-letter topic. Needs WIREDESK_KAFKA_BOOTSTRAP.",
    )
    sink = sub.add_parser(
        "sink",
        help="run the sink service: write articles to storage and search",
        description="Consume the articles topic and write each batch to the configured "
        "storage and search (sink.storage, sink.search); offsets are committed only "
        "after the write is durable. Needs WIREDESK_KAFKA_BOOTSTRAP.",
    )
    sink.add_argument("--only", choices=["storage", "search"], help="run only one kind of sink (own group)")

    feeds = sub.add_parser(
        "feeds",
        help="list the feed registry with each feed's health and polling state; `feeds check`",
        description="Validate the feed registry and show each feed with its health (ok, degraded, "
        "failing: why, and since when) and polling state, from the ingest ledger (ingest.state_store). "
        "`wiredesk feeds check URL-or-FILE` tries one feed instead.",
    )
    feeds.add_argument("--feeds", metavar="FILE", help="feed registry (default: ingest.feeds_file)")
    feeds.add_argument("--json", action="store_true", help="one JSON object per feed")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION")
    check = feeds_sub.add_parser(
        "check",
        help="fetch and parse one feed, print its items as JSON lines (no Kafka)",
        description="Fetch URL (or read FILE) and parse it as ingest would, with the same HTTP guards; "
        "print every normalised item as one JSON line on stdout and a summary on stderr. A feed that "
        "cannot be used (not found, an HTML page, unparseable, empty) prints one line saying why and "
        "exits non-zero (docs/operations.md).",
    )
    check.add_argument("target", metavar="URL-or-FILE")

    search = sub.add_parser(
        "search",
        help="full-text search over stored articles",
        description="Search the configured search index (sink.search: SQLite FTS5 by default). "
        'Query syntax, the same on every backend: words must all match; "a phrase"; a OR b; '
        "-word or NOT word to leave out; word* for a prefix. Operators only in capitals.",
    )
    search.add_argument("query", nargs="+", help="words to look for")
    search.add_argument("--limit", type=_positive_int, default=10, help="at most this many hits (default 10)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")

    sub.add_parser(
        "topics",
        help="list Kafka topics and partition counts (needs WIREDESK_KAFKA_BOOTSTRAP)",
        description="List the topics on the configured broker with their partition counts.",
    )

    config = sub.add_parser(
        "config",
        help="show or check the effective settings",
        description="Print the effective settings (secrets redacted) or check them.",
    )
    mode = config.add_mutually_exclusive_group()
    mode.add_argument("--print", dest="print_", action="store_true", help="print effective settings as YAML")
    mode.add_argument(
        "--check",
        action="store_true",
        help="validate without starting anything (also the feed registry and the metrics address); "
        "exit 78 listing every problem",
    )
    mode.add_argument("--env", action="store_true", help="list every WIREDESK_* variable with its default")
    config.add_argument(
        "--for",
        dest="for_",
        choices=["run", "ingest", "transform", "sink"],
        default="run",
        help="the command whose effective values to print or check (default: run); some defaults "
        "differ, e.g. the metrics address",
    )

    clean = sub.add_parser(
        "clean",
        help="clean and enrich files offline: one Article JSON per file",
        description="Run the transform chain over local files with no Kafka involved "
        "and print one Article JSON per input file, one per line, in input order.",
    )
    clean.add_argument(
        "--as",
        dest="as_",
        choices=["html", "text", "feed"],
        default=None,
        help="html: a full article page; text: plain text; feed: RSS/Atom/JSON Feed (one line per "
        "item); default: detected from each file's content",
    )
    clean.add_argument("--url", default="", help="the page's URL (canonical URL and ids)")
    clean.add_argument("files", nargs="+", metavar="FILE")

    entities = sub.add_parser(
        "entities",
        help="entity spans of files: one JSON line per file",
        description="Print, per file, the list of entity spans {start, end, type, "
        "text} over the cleaned text (for --as text, offsets are into the file's text).",
    )
    entities.add_argument("--as", dest="as_", choices=["text", "html"], default="text")
    entities.add_argument("files", nargs="+", metavar="FILE")

    dlq = sub.add_parser(
        "dlq",
        help="inspect or redrive the dead-letter topic",
        description="Dead letters are records a stage could not process, with the error in their "
        "headers. The <kafka.group_prefix>-dlq-redrive group's committed offset marks how far redrives have "
        "dealt with them.",
    )
    dlq_sub = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    dlq_list = dlq_sub.add_parser(
        "list",
        help="print dead letters with their error headers",
        description="Print the dead letters no redrive has dealt with yet, one JSON object per line.",
    )
    dlq_list.add_argument("--limit", type=int, default=50)
    dlq_list.add_argument(
        "--all", dest="everything", action="store_true", help="every retained letter, including history"
    )
    redrive = dlq_sub.add_parser(
        "redrive",
        help="send dead letters back to their source topic",
        description="Re-publish dead letters to the topic they came from, once the cause is fixed. "
        "A run reads the DLQ from where the last run stopped up to the end it sees at its start, so "
        "letters that fail again meanwhile wait for the next run; each redriven copy carries one "
        "more wd-redrive-count. Letters that do not match --error-class/--stage are appended to the "
        "DLQ again, so they stay listed and a later run can redrive them. Progress lines and a "
        "summary go to stderr. Run one redrive at a time.",
    )
    redrive.add_argument("--error-class", help="only dead letters with this error class")
    redrive.add_argument("--stage", help="only dead letters from this stage")
    redrive.add_argument(
        "--max-redrives",
        type=int,
        metavar="N",
        help="leave in place letters already redriven N times (they keep failing)",
    )
    redrive.add_argument("--dry-run", action="store_true", help="count what would be done; change nothing")

    replay = sub.add_parser(
        "replay",
        help="re-derive articles from retained raw items",
        description="Re-run transform over the raw items retained on the raw topic "
        "since TIME (after an extractor improvement); the sinks keep the newer "
        "derivation.",
    )
    replay.add_argument("--stage", choices=["transform"], required=True)
    replay.add_argument(
        "--from", dest="from_", required=True, metavar="TIME", help="ISO 8601 time, e.g. 2026-11-01T00:00:00Z"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the one place where an error becomes a message and an exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        return _dispatch(args, settings)
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        level = settings.service.log_level if settings else os.environ.get("WIREDESK_SERVICE_LOG_LEVEL")
        return report(exc, debug=level == "DEBUG")


def report(exc: BaseException, *, debug: bool = False, err: TextIO | None = None) -> int:
    """Print what went wrong as one line (a list for several problems) and return the exit code."""
    err = err or sys.stderr
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError) and _stdout_closed():
        # The reader of our output went away (`wiredesk clean ... | head -1`): stop quietly, as
        # Unix tools do, and keep the interpreter's final flush from failing on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    if debug:
        traceback.print_exception(exc, file=err)
    if isinstance(exc, WiredeskError):
        print(f"wiredesk: {exc}", file=err)
        return exc.exit_code
    if isinstance(exc, ConnectionError | TimeoutError):
        print(f"wiredesk: connection failed: {_os_error(exc)}", file=err)
        return EX_UNAVAILABLE
    if isinstance(exc, OSError):
        print(f"wiredesk: {_os_error(exc)}", file=err)
        return EX_IOERR
    print(f"wiredesk: internal error: {type(exc).__name__}: {exc} ({DEBUG_HINT})", file=err)
    return EX_SOFTWARE


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _stdout_closed() -> bool:
    """Is standard output a pipe (or socket) whose reader has gone?"""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() on this platform, or no stdout
        return True


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "config":
        return _config(args, settings)
    if command == "clean":
        from app.offline import clean_files

        return clean_files(args.files, as_=args.as_, url=args.url, out=sys.stdout)
    if command == "entities":
        from app.offline import entity_files

        return entity_files(args.files, as_=args.as_, out=sys.stdout)
    if command == "search":
        from app.commands import search

        return search(settings, " ".join(args.query), limit=args.limit, as_json=args.json)
    if command == "feeds":
        from app.commands import check_feed, list_feeds

        if args.feeds_command == "check":
            return check_feed(settings, args.target)
        return list_feeds(settings, feeds_file=args.feeds, as_json=args.json)
    if command == "topics":
        from app.commands import topics

        return topics(settings)
    if command == "dlq":
        from app.commands import dlq_list, dlq_redrive

        if args.dlq_command == "list":
            return dlq_list(settings, limit=args.limit, everything=args.everything)
        return dlq_redrive(
            settings,
            error_class=args.error_class,
            stage=args.stage,
            dry_run=args.dry_run,
            max_redrives=args.max_redrives,
        )
    if command == "replay":
        from app.commands import replay_transform

        return replay_transform(settings, since=args.from_)
    from app import runner

    if command == "run":
        return runner.run_all(settings, once=args.once, feeds_file=args.feeds, quiet=args.quiet)
    if command == "ingest":
        return runner.run_ingest(settings, once=args.once, feeds_file=args.feeds)
    if command == "transform":
        return runner.run_transform(settings)
    if command == "sink":
        return runner.run_sink(settings, only=args.only)
    raise AssertionError(f"unhandled command {command}")


def _config(args: argparse.Namespace, settings: Settings) -> int:
    if args.env:
        from wiredesk.settings import documented_settings

        for dotted, env, default, description in documented_settings():
            print(f"{env:45} {default:28} {description or dotted}")
        return 0
    from app.runner import effective_settings, feeds_to_poll, require_kafka

    if args.check:
        from wiredesk.service import check_listen_address

        # Validation already ran (load_settings); what is left are facts of this machine.
        if args.for_ != "run":
            require_kafka(settings, args.for_)
        check_listen_address(effective_settings(settings, args.for_).service.metrics_host)
        if args.for_ in ("run", "ingest"):
            from ingest.registry import load_registry

            load_registry(feeds_to_poll(settings, None, samples=args.for_ == "run").path)
        print(f"settings OK for `wiredesk {args.for_}`")
        return 0
    import yaml

    print(yaml.safe_dump(redacted(effective_settings(settings, args.for_)), sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

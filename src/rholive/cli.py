"""The ``rholive`` command line. Commands stay thin: they parse flags, build settings, call a module."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rholive import interrupts
from rholive.config import ConfigError, Settings, load_settings

app = typer.Typer(
    help="rholive: real-time assistants on the Gemini Live API, with a local Live API emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_state: dict[str, Any] = {"debug": False, "config": None}

BaseUrl = Annotated[
    str | None, typer.Option("--base-url", help="ws://, wss://, http:// or https:// endpoint.")
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", help="Gemini API key (default: $GEMINI_API_KEY).", show_default=False),
]
Model = Annotated[
    str | None,
    typer.Option("--model", help="Live model (default models/gemini-3.8-live; rholive models lists them)."),
]
ApiVersion = Annotated[str | None, typer.Option("--api-version", help="v1, v1beta or v1alpha.")]
CaFile = Annotated[Path | None, typer.Option("--ca-file", help="Trust this certificate (emulator --tls).")]
Modality = Annotated[str | None, typer.Option("--modality", help="text or audio.")]
JsonMode = Annotated[bool, typer.Option("--json", help="One JSON object per event on stdout.")]
Budget = Annotated[
    float | None,
    typer.Option(
        "--budget",
        help="End the session once the estimated cost reaches this many US dollars (exit code 3).",
        show_default=False,
    ),
]


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"rholive {version('rholive')}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
) -> None:
    _state["debug"] = debug
    _state["config"] = config


def _settings(**flags: Any) -> Settings:
    return _guard(lambda: load_settings(_state["config"], **flags))


def _endpoint_settings(
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    api_version: str | None,
    ca_file: Path | None,
    modality: str | None = None,
    budget: float | None = None,
) -> Settings:
    """Settings for a command that talks to a Live endpoint (the same flags everywhere)."""
    return _settings(
        base_url=base_url,
        api_key=api_key,
        model=model,
        api_version=api_version,
        ca_file=ca_file,
        modality=modality,
        budget_usd=budget,
    )


def _guard(work: Any) -> Any:
    """Run ``work``; errors a user can cause become one line on stderr and exit 1 (traceback with --debug)."""
    try:
        return work()
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except ConfigError as exc:  # a setting the user gave: fix the file or flag, then run again
        if _state["debug"]:
            raise
        print(f"rholive: error: {_describe(exc)}", file=sys.stderr)
        raise typer.Exit(2) from None
    except Exception as exc:
        if _state["debug"]:
            raise
        print(f"rholive: error: {_describe(exc)}", file=sys.stderr)
        raise typer.Exit(1) from None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


@app.command()
def chat(
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    modality: Modality = None,
    json_mode: JsonMode = False,
    budget: Budget = None,
) -> None:
    """A line-based chat over one Live session: each stdin line is a user turn."""
    from rholive import chat as chat_module

    settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file, modality, budget)
    code = _guard(lambda: chat_module.main(settings, json_mode=json_mode))
    raise typer.Exit(code)


@app.command()
def models(
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    json_mode: JsonMode = False,
) -> None:
    """The Live models the endpoint offers now (GET /{version}/models), with the catalog's notes."""
    from rholive import models_command

    settings = _endpoint_settings(base_url, api_key, None, api_version, ca_file)
    raise typer.Exit(_guard(lambda: models_command.main(settings, json_mode=json_mode)))


@app.command()
def demo(
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    speed: Annotated[float, typer.Option("--speed", help="Play the spoken sample N times faster.")] = 4.0,
) -> None:
    """Show rholive end to end on the embedded emulator (no key, no network needed)."""
    from rholive import demo as demo_module

    settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file)
    raise typer.Exit(_guard(lambda: demo_module.main(settings, speed=speed)))


Turns = Annotated[
    str,
    typer.Option(
        "--turns", help="client: our segmenter sends activity markers; server: the server's VAD decides."
    ),
]


def _turn_mode(turns: str) -> Any:
    if turns not in ("client", "server"):
        print(f"rholive: error: --turns must be client or server, not {turns!r}", file=sys.stderr)
        raise typer.Exit(2)
    return turns


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="Audio file (WAV, OGG/Opus, MP3, anything FFmpeg decodes).")],
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    modality: Modality = None,
    json_mode: JsonMode = False,
    speed: Annotated[
        float | None, typer.Option("--speed", help="Play N times faster than real time (default: unpaced).")
    ] = None,
    turns: Turns = "client",
    budget: Budget = None,
) -> None:
    """Stream an audio file through the turn segmenter into a Live session and show the replies."""
    from rholive import replay as replay_module

    mode = _turn_mode(turns)
    settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file, modality, budget)
    code = _guard(lambda: replay_module.main(settings, file, json_mode=json_mode, speed=speed, turns=mode))
    raise typer.Exit(code)


@app.command()
def run(
    no_screen: Annotated[bool, typer.Option("--no-screen", help="Audio only (no screen capture).")] = False,
    mic: Annotated[
        str | None, typer.Option("--mic", help="Microphone (index, name or id; default: the default).")
    ] = None,
    system: Annotated[
        str | None,
        typer.Option("--system", help="System-audio monitor (index, name or id; default: the default)."),
    ] = None,
    no_mic: Annotated[bool, typer.Option("--no-mic", help="Do not capture the microphone.")] = False,
    no_system: Annotated[bool, typer.Option("--no-system", help="Do not capture system audio.")] = False,
    output: Annotated[str | None, typer.Option("--output", help="Speaker for spoken replies.")] = None,
    monitor: Annotated[int, typer.Option("--monitor", help="Monitor to watch (1 = primary).")] = 1,
    region: Annotated[
        str | None, typer.Option("--region", help="Watch only this part of the screen: X,Y,W,H in pixels.")
    ] = None,
    max_fps: Annotated[
        float, typer.Option("--max-fps", help="Screen frames sent per second, at most.")
    ] = 1.0,
    max_edge: Annotated[
        int, typer.Option("--max-edge", help="Long edge of a sent frame, at most (px); sets mediaResolution.")
    ] = 1024,
    persona: Annotated[
        str | None,
        typer.Option(
            "--persona",
            help="A persona preset: silent-helper (the default), interview, meeting-notes or tutor.",
        ),
    ] = None,
    proactive_interval: Annotated[
        float | None,
        typer.Option(
            "--proactive-interval", help="Seconds between two screen turns the copilot starts itself."
        ),
    ] = None,
    terminal: Annotated[
        bool, typer.Option("--terminal", help="The terminal view even when the overlay is available.")
    ] = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    modality: Modality = None,
    json_mode: JsonMode = False,
    turns: Turns = "client",
    budget: Budget = None,
) -> None:
    """The copilot: microphone (me), system audio (them) and the screen into one Live session; answers in the
    overlay or the terminal (and spoken with --modality audio)."""
    from rholive.copilot import ScreenConfig, launch
    from rholive.screen import Region

    mode = _turn_mode(turns)
    settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file, modality, budget)

    def screen_config() -> ScreenConfig | None:
        if no_screen:
            return None
        area = Region.parse(region) if region else None
        return ScreenConfig(monitor=monitor, region=area, max_fps=max_fps, max_edge=max_edge)

    options = launch.RunOptions(
        mic=None if no_mic else (mic or ""),
        system=None if no_system else (system or ""),
        output=output,
        json_mode=json_mode,
        turns=mode,
        screen=_guard(screen_config),
        persona=persona,
        proactive_interval_s=proactive_interval,
        terminal=terminal,
    )
    raise typer.Exit(interrupts.exit_code(_guard(lambda: launch.main(settings, options))))


@app.command()
def emulator(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="0 picks a free port.")] = 8765,
    tls: Annotated[bool, typer.Option("--tls", help="Serve wss:// with a self-signed certificate.")] = False,
    api_keys: Annotated[
        list[str] | None, typer.Option("--api-key", help="Accepted API key (repeatable; none = any).")
    ] = None,
    brain: Annotated[str, typer.Option("--brain", help="echo or script:PATH.")] = "echo",
    extra_models: Annotated[
        list[str] | None,
        typer.Option("--extra-model", help="Also serve this Live model, like the default (repeatable)."),
    ] = None,
    connection_lifetime: Annotated[
        float | None, typer.Option("--connection-lifetime", help="Seconds before a connection is closed.")
    ] = None,
    goaway_notice: Annotated[float, typer.Option("--goaway-notice", help="goAway this long before.")] = 60.0,
    drop_after: Annotated[
        int | None, typer.Option("--drop-after", help="Fault: drop the TCP connection after N messages.")
    ] = None,
    close_code: Annotated[
        int | None, typer.Option("--close-code", help="Fault: close with this code...")
    ] = None,
    close_after: Annotated[
        int | None, typer.Option("--close-after", help="...after N client messages.")
    ] = None,
    reply_delay: Annotated[float, typer.Option("--reply-delay", help="Fault: delay replies (s).")] = 0.0,
    stall_after: Annotated[
        int | None, typer.Option("--stall-after", help="Fault: no answer to turn N (once per conversation).")
    ] = None,
    refuse_resume: Annotated[
        int | None, typer.Option("--refuse-resume", help="Fault: refuse a resume with 1007 or 1008.")
    ] = None,
    split_turn_complete: Annotated[
        bool, typer.Option("--split-turn-complete", help="Fault: a turnComplete mid-sentence.")
    ] = False,
    drop_mid_answer: Annotated[
        bool, typer.Option("--drop-mid-answer", help="Fault: drop TCP mid-answer (once per turn).")
    ] = False,
    unresumable_while_generating: Annotated[
        bool,
        typer.Option("--unresumable-while-generating", help="Fault: resumable:false updates mid-answer."),
    ] = False,
    chaos: Annotated[
        float, typer.Option("--chaos", help="Fault: this share of connections gets one random failure.")
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --chaos (same seed, same failures).")] = 0,
    audio_session_limit: Annotated[float, typer.Option("--audio-session-limit")] = 900.0,
    video_session_limit: Annotated[float, typer.Option("--video-session-limit")] = 120.0,
) -> None:
    """Run a local Live API server (WebSocket + REST on one port)."""
    from rholive.emulator import Emulator, EmulatorOptions
    from rholive.live import models

    def build() -> Any:
        options = EmulatorOptions(
            host=host,
            port=port,
            tls=tls,
            api_keys=list(api_keys or []),
            extra_models=[models.full_name(m) for m in extra_models or []],
            brain=brain,
            connection_lifetime_s=connection_lifetime,
            goaway_notice_s=goaway_notice,
            drop_after_messages=drop_after,
            close_code=close_code,
            close_after_messages=close_after,
            reply_delay_s=reply_delay,
            stall_after=stall_after,
            refuse_resume=refuse_resume,
            split_turn_complete=split_turn_complete,
            drop_mid_answer=drop_mid_answer,
            unresumable_while_generating=unresumable_while_generating,
            chaos_rate=chaos,
            chaos_seed=seed,
            audio_session_limit_s=audio_session_limit,
            video_session_limit_s=video_session_limit,
        )
        return Emulator(options)

    async def serve() -> None:
        async with build() as emu:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):  # before the first line: a script may signal at once
                loop.add_signal_handler(sig, lambda s=sig: (interrupts.note(s), stop.set()))
            print(f"rholive emulator listening on {emu.url}", flush=True)
            if tls:
                print(f"rholive emulator certificate: {emu.cert_path}", flush=True)
            await stop.wait()
            for connection, kind in emu.injected:  # what --chaos did, for whoever drove a client through it
                print(f"rholive emulator: chaos: {kind} on connection {connection}", file=sys.stderr)

    _guard(lambda: asyncio.run(serve()))
    raise typer.Exit(interrupts.exit_code(0))


@app.command()
def devices() -> None:
    """List microphones (me), system-audio monitors (them) and outputs."""

    def show() -> None:
        from rholive.audio import describe_devices

        for line in describe_devices():
            print(line)

    _guard(show)


BotToken = Annotated[
    str | None,
    typer.Option("--bot-token", help="Bot token (default: $RHOLIVE_BOT_TOKEN).", show_default=False),
]
BotApiUrl = Annotated[
    str | None, typer.Option("--api-url", help="Another Bot API server (self-hosted, test fake).")
]
VoicechatSession = Annotated[
    str | None,
    typer.Option(
        "--voicechat-session",
        help="Telethon session string of a user account for group voice chats "
        "(default: $RHOLIVE_TG_SESSION; prefer the variable: flags show in ps).",
        show_default=False,
    ),
]
TgApiId = Annotated[
    int | None, typer.Option("--api-id", help="Telegram API id (default: $RHOLIVE_TG_API_ID).")
]
TgApiHash = Annotated[
    str | None,
    typer.Option("--api-hash", help="Telegram API hash (default: $RHOLIVE_TG_API_HASH).", show_default=False),
]
VoicechatIdle = Annotated[
    float,
    typer.Option("--voicechat-idle", help="Leave a voice chat after this many seconds without speech."),
]
Speakers = Annotated[
    str,
    typer.Option("--speakers", help="Voice chat input: 'mix' all speakers or follow the 'active' one."),
]
OnPurpose = Annotated[
    bool,
    typer.Option("--emulator", help="Answer from the embedded emulator on purpose (no key, no --base-url)."),
]
RedisUrl = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="redis://HOST:PORT/N: put updates on Redis for workers on any machine (default: one process, "
        "SQLite).",
    ),
]
LeaseS = Annotated[
    float,
    typer.Option(
        "--lease-s", min=0.5, help="With --redis: a dead worker's chats and calls are taken over after this."
    ),
]

telegram_app = typer.Typer(
    help="A Telegram bot: voice notes in, spoken and written answers out; /join puts a userbot in a voice "
    "chat. With --redis: a front that puts updates on Redis (answering too unless --no-work); "
    "`rholive telegram worker` answers them.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(telegram_app, name="telegram")


def _bot_token(bot_token: str | None) -> str:
    import os

    token = bot_token or os.environ.get("RHOLIVE_BOT_TOKEN")
    if not token:
        print("rholive: error: no bot token: pass --bot-token or set RHOLIVE_BOT_TOKEN", file=sys.stderr)
        raise typer.Exit(2)
    return token


def _voicechat_config(
    session: str | None, api_id: int | None, api_hash: str | None, idle: float, speakers: str
) -> Any:
    import os

    from rholive.telegram.voicechat import voicechat_config

    try:
        return voicechat_config(session, api_id, api_hash, idle, speakers, os.environ)
    except ValueError as e:
        print(f"rholive: error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None


def _answering_settings(
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    api_version: str | None,
    ca_file: Path | None,
    emulator: bool,
) -> Settings:
    settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file)
    if settings.uses_embedded_emulator and not emulator:
        # real Telegram users would get the echo emulator's answers: only on purpose
        print(
            "rholive: error: no GEMINI_API_KEY and no --base-url: the bot would answer Telegram users from the "
            "local echo emulator; set GEMINI_API_KEY, or pass --emulator to do that on purpose",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    return settings


@telegram_app.callback(invoke_without_command=True)
def telegram(
    ctx: typer.Context,
    bot_token: BotToken = None,
    api_url: BotApiUrl = None,
    allow: Annotated[
        list[int] | None, typer.Option("--allow", help="Chat id allowed to talk to the bot (repeatable).")
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    voicechat_session: VoicechatSession = None,
    api_id: TgApiId = None,
    api_hash: TgApiHash = None,
    voicechat_idle: VoicechatIdle = 300.0,
    speakers: Speakers = "mix",
    emulator: OnPurpose = False,
    redis: RedisUrl = None,
    no_work: Annotated[
        bool, typer.Option("--no-work", help="With --redis: only receive updates; workers answer them.")
    ] = False,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="With --redis: receive updates at this public URL (behind a proxy)."),
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="With --webhook: HOST:PORT the proxy forwards to.")
    ] = None,
    lease_s: LeaseS = 30.0,
) -> None:
    """A Telegram bot: voice notes in, spoken and written answers out; /join puts a userbot in a voice chat."""
    if ctx.invoked_subcommand is not None:
        return
    token = _bot_token(bot_token)
    if redis is None and (no_work or webhook or listen):
        print("rholive: error: --no-work, --webhook and --listen need --redis", file=sys.stderr)
        raise typer.Exit(2)
    if (webhook is None) != (listen is None):
        print("rholive: error: --webhook URL and --listen HOST:PORT go together", file=sys.stderr)
        raise typer.Exit(2)
    voicechat = _voicechat_config(voicechat_session, api_id, api_hash, voicechat_idle, speakers)
    if redis is not None and no_work:
        settings = _endpoint_settings(base_url, api_key, model, api_version, ca_file)  # answers nothing
    else:
        settings = _answering_settings(base_url, api_key, model, api_version, ca_file, emulator)
    if redis is None:
        from rholive.telegram import run_bot

        _guard(lambda: asyncio.run(run_bot(settings, token, api_url, list(allow or []), voicechat=voicechat)))
        return
    from rholive.telegram.scale import ScaleOptions, run_scaled

    scale = ScaleOptions(redis, work=not no_work, lease_s=lease_s, webhook=webhook, listen=listen)
    _guard(
        lambda: asyncio.run(
            run_scaled(settings, token, api_url, scale, front=True, allow=allow or [], voicechat=voicechat)
        )
    )


@telegram_app.command("worker")
def telegram_worker(
    redis: Annotated[str, typer.Option("--redis", help="redis://HOST:PORT/N the front puts updates on.")],
    bot_token: BotToken = None,
    api_url: BotApiUrl = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    model: Model = None,
    api_version: ApiVersion = None,
    ca_file: CaFile = None,
    voicechat_session: VoicechatSession = None,
    api_id: TgApiId = None,
    api_hash: TgApiHash = None,
    voicechat_idle: VoicechatIdle = 300.0,
    speakers: Speakers = "mix",
    emulator: OnPurpose = False,
    lease_s: LeaseS = 30.0,
    max_chats: Annotated[
        int, typer.Option("--max-chats", min=1, help="Chats this worker answers at once (the rest wait).")
    ] = 8,
) -> None:
    """A worker only: answers the updates a front put on Redis (start as many as needed, on any machine)."""
    from rholive.telegram import ChatOptions
    from rholive.telegram.scale import ScaleOptions, run_scaled

    token = _bot_token(bot_token)
    voicechat = _voicechat_config(voicechat_session, api_id, api_hash, voicechat_idle, speakers)
    settings = _answering_settings(base_url, api_key, model, api_version, ca_file, emulator)
    scale = ScaleOptions(redis, lease_s=lease_s)
    options = ChatOptions(model=settings.model, max_active_chats=max_chats)
    _guard(
        lambda: asyncio.run(
            run_scaled(settings, token, api_url, scale, front=False, options=options, voicechat=voicechat)
        )
    )


@app.command()
def history(
    session: Annotated[
        str | None, typer.Option("--session", help="Show one session: its id, a unique prefix, or 'last'.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Export as Markdown to stdout (one session, or all).")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Transcript store (default: DATA_DIR/transcripts.sqlite3).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the N newest sessions.")] = None,
) -> None:
    """The copilot's sessions: a table, one conversation (--session), or Markdown (--markdown)."""
    from rholive.copilot import default_path
    from rholive.copilot import history as history_module

    path = db or default_path(_settings().data_dir)
    code = _guard(lambda: history_module.main(path, session=session, markdown=markdown, limit=limit))
    raise typer.Exit(code)


if __name__ == "__main__":
    app()

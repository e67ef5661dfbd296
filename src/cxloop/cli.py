"""``cxloop``: the command line, the front door of the platform."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from cxloop.config import Settings, SettingsError, load_settings

app = typer.Typer(help="cxloop: self-hosted customer experience management.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="People who log in.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machines.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports from files.", no_args_is_help=True)
jobs_app = typer.Typer(help="The job queue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(apikey_app, name="apikey")
app.add_typer(import_app, name="import")
app.add_typer(jobs_app, name="jobs")
console = Console()
err = Console(stderr=True)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def prepared_settings() -> Settings:
    """Settings with the database migrated to the newest schema."""
    from cxloop.store.migrate import upgrade

    s = settings()
    upgrade(s.resolved_database_url)
    return s


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from cxloop.store.migrate import current_heads

    s = prepared_settings()
    console.print(
        f"database at revision {', '.join(sorted(current_heads(s.resolved_database_url)))}"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (CXLOOP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CXLOOP_PORT).")] = None,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Web server processes sharing the port (busy survey forms, collectors); "
            "job workers stay in this process.",
        ),
    ] = 1,
) -> None:
    """Migrate the database, start job workers and serve the web app and API."""
    import uvicorn

    from cxloop.jobs import build_huey, make_consumer
    from cxloop.web.app import create_app

    s = prepared_settings()
    # With several web processes each builds its own app; this one only runs the jobs.
    application = create_app(s) if processes == 1 else None
    huey = application.state.huey if application is not None else build_huey(s)
    consumer = None
    if s.workers > 0:
        consumer = make_consumer(huey, s.workers)
        consumer.start()
    console.print(f"cxloop serving on http://{host or s.host}:{port or s.port}")
    bind_host, bind_port = host or s.host, port or s.port
    try:
        if application is None:
            # Each process builds its app from the same environment this one read; a generated
            # secret is written to the data dir first so that all of them sign alike.
            _ = s.resolved_secret_key
            uvicorn.run(
                "cxloop.web.app:create_app",
                factory=True,
                workers=processes,
                host=bind_host,
                port=bind_port,
                log_level="info",
            )
        else:
            uvicorn.run(application, host=bind_host, port=bind_port, log_level="info")
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 2,
) -> None:
    """Run job-queue workers only (for deployments with Redis and many machines)."""
    from cxloop.jobs import build_huey, make_consumer

    s = prepared_settings()
    consumer = make_consumer(build_huey(s), threads)
    console.print(f"cxloop worker with {threads} threads on {'Redis' if s.redis_url else 'SQLite'}")
    consumer.run()


@jobs_app.command("list")
def jobs_list() -> None:
    """List the registered background and periodic tasks."""
    from cxloop.jobs import task_names

    for name in task_names():
        console.print(name)


@jobs_app.command("run")
def jobs_run(name: str) -> None:
    """Run one registered task now, in this process, and print its result."""
    from cxloop.jobs import _SPECS, JobContext, task_names

    if name not in task_names():
        err.print(f"[red]unknown task {name!r}; see `cxloop jobs list`[/red]")
        raise typer.Exit(2)
    console.print(_SPECS[name].fn(JobContext(prepared_settings())))


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, executive, manager, frontline or analyst.")],
    unit: Annotated[list[str], typer.Option(help="Org-unit code; repeat for several.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    language: Annotated[str | None, typer.Option(help="en or ja.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Password; asked for when omitted.", envvar="CXLOOP_NEW_PASSWORD"),
    ] = None,
) -> None:
    """Create a user who can log in."""
    from cxloop.store import audit
    from cxloop.store.engine import session_scope
    from cxloop.store.org import NotFoundError, create_user, unit_by_code

    s = prepared_settings()
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        err.print("[red]password: use at least 10 characters[/red]")
        raise typer.Exit(2)
    try:
        with session_scope(s.resolved_database_url) as session:
            units = [unit_by_code(session, code) for code in unit]
            user = create_user(
                session=session,
                email=email,
                name=name or email.split("@")[0],
                role=role,
                units=units,
                password=password,
                language=language,
            )
            audit.record(
                session,
                audit.SYSTEM,
                "user_created",
                target_type="user",
                target_id=user.id,
                role=role,
                units=unit,
            )
    except (ValueError, NotFoundError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"created {role} {email}")


@apikey_app.command("create")
def apikey_create(
    name: str,
    scope: Annotated[list[str], typer.Option(help="Permission, e.g. feedback:write; repeat.")],
    unit: Annotated[str | None, typer.Option(help="Org-unit code the key is limited to.")] = None,
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    from sqlalchemy import select

    from cxloop.store.accounts import create_api_key
    from cxloop.store.engine import session_scope
    from cxloop.store.models.org import OrgUnit
    from cxloop.store.org import NotFoundError, unit_by_code

    s = prepared_settings()
    try:
        with session_scope(s.resolved_database_url) as session:
            target = (
                unit_by_code(session, unit)
                if unit
                else session.scalar(
                    select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)
                )
            )
            if target is None:
                raise NotFoundError("no org units yet: run `cxloop demo` or create the company")
            key, row = create_api_key(session=session, name=name, scopes=scope, unit=target)
            scopes = ", ".join(row.scopes)
    except (ValueError, NotFoundError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"API key {name!r} for unit {target.code} with scopes: {scopes}")
    console.print("Store it now; it is not shown again:")
    sys.stdout.write(key + "\n")


@app.command()
def demo(
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same company.")
    ] = 7,
) -> None:
    """Load the demo company (once; an already loaded database is left as it is)."""
    from cxloop.demo import DEMO_PASSWORD, load_demo

    s = prepared_settings()
    created = load_demo(s, seed=seed, console=console)
    if not created:
        console.print("demo company already loaded")
    console.print(
        f"Open {s.base_url} and log in as [bold]admin@sakura-living.example[/bold] "
        f"(or exec@, kanto.manager@, shibuya.manager@, cc.agent1@ …) with password "
        f"[bold]{DEMO_PASSWORD}[/bold]"
    )


_registered = False


def _register_area_commands() -> None:
    """Add the commands each area contributes (modules named ``*_commands``), once."""
    global _registered
    if _registered:
        return
    from cxloop.plugins import modules_named

    for module in modules_named("commands"):
        module.register(app=app, import_app=import_app)
    _registered = True


def main() -> None:
    _register_area_commands()
    app()

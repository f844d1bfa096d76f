"""The ``synthscene`` command line: a thin face over :mod:`synthscene.pipeline`.

Every :class:`~synthscene.errors.SynthsceneError` is printed as one line on stderr and the command
exits with status 2; no traceback is shown for bad input.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthscene.errors import SynthsceneError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Labelled vision datasets from 3D assets by domain randomization.",
)

EXIT_BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"synthscene: error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


@app.command()
def generate(
    scene: Annotated[Optional[Path], typer.Argument(  # noqa: UP045 (typer needs Optional)
        help="Scenario YAML file [default: the bundled scenes/tabletop.yaml].",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    frames: Annotated[int, typer.Option("--frames", "-n", min=0, help="Frames to make.")] = 100,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Run seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Make a COCO instance-segmentation dataset: OUT/images/*.png and OUT/annotations.json."""
    from tqdm import tqdm

    from synthscene.config import load_scenario
    from synthscene.resources import default_scene_path

    try:
        scenario = load_scenario(scene if scene is not None else default_scene_path())
        from synthscene.pipeline import generate as run

        with tqdm(total=frames, unit="frame", disable=quiet, dynamic_ncols=True,
                  desc=scenario.spec.name) as bar:
            summary = run(scenario, out, frames=frames, seed=seed, overwrite=overwrite,
                          on_frame=lambda _sample: bar.update(1))
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo("synthscene: interrupted; no annotations.json was written", err=True)
        raise typer.Exit(130) from None
    stages = ", ".join(f"{k} {1000 * v / max(summary.frames, 1):.1f}"
                       for k, v in summary.stage_seconds.items())
    typer.echo(
        f"{summary.frames} frames, {summary.instances} instances in {summary.seconds:.1f} s "
        f"({summary.frames_per_second:.1f} frames/s)\n"
        f"per frame (ms): {stages}\n"
        f"dataset: {summary.out_dir.resolve()} (COCO: {summary.annotations.resolve()})"
    )


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                help="Log what the library does.")] = False):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SynthsceneError as exc:  # pragma: no cover - commands catch their own
        typer.echo(f"synthscene: error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":  # pragma: no cover
    main()

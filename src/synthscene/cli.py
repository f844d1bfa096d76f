"""The ``synthscene`` command line: a thin face over :mod:`synthscene.run.pipeline`.

Every :class:`~synthscene.errors.SynthsceneError` is printed as one line on stderr and the command
exits with status 2; no traceback is shown for bad input.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from synthscene.errors import SynthsceneError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Labelled vision datasets from 3D assets by domain randomization.",
)

EXIT_BAD_INPUT = 2


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (escape sequences, carriage returns,
    newlines) and other unprintable ones written as Python escapes (``\\x1b``, ``\\n``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"synthscene: error: {printable(message)}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _warnings_held(command: Callable[..., None]) -> Callable[..., None]:
    """Hold the Python warnings a command raises in this process (a library's RuntimeWarning
    while it reads a broken mesh, say): shown when the command ends, dropped when it ends with
    a clean error, which is then the one line printed."""

    @functools.wraps(command)
    def run(*args, **kwargs) -> None:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                return command(*args, **kwargs)
        except typer.Exit as exc:
            if exc.exit_code == EXIT_BAD_INPUT:
                caught = []
            raise
        finally:
            for w in caught:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)

    return run


_PLUGIN_HELP = ("Plug-in to load first: a module name (mypkg.randomizers) or a .py file; "
                "repeatable.")
_LIMIT_HELP = ("Set a safety limit for this run, NAME=VALUE (e.g. max_objects=5000), above its "
               "default if need be (a scenario file can only lower one); repeatable. An unknown "
               "NAME lists the limits.")


class _Executor(str, Enum):
    local = "local"
    ray = "ray"


@app.command()
@_warnings_held
def generate(
    scene: Annotated[Optional[Path], typer.Argument(  # noqa: UP045 (typer needs Optional)
        help="Scenario YAML file [default: the bundled scenes/tabletop.yaml].",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    frames: Annotated[int, typer.Option("--frames", "-n", min=0, help="Frames to make.")] = 100,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Run seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a dataset already in --out.")] = False,
    resume: Annotated[bool, typer.Option(
        help="Complete the interrupted run in --out (same scene, seed and frames), keeping "
             "its finished frames.")] = False,
    workers: Annotated[Optional[int], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--workers", "-j", min=1, show_default=False,
        help="Worker processes (or Ray actors); default: every core, or every CPU of the "
             "Ray cluster.")] = None,
    executor: Annotated[_Executor, typer.Option(
        help="local: worker processes on this machine; ray: Ray actors on a cluster "
             "(pip install 'synthscene\\[ray]').")] = _Executor.local,
    address: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional)
        help="Ray cluster address, e.g. auto, HEAD_IP:6379 or ray://HEAD_IP:10001; "
             "default: start Ray on this machine.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    plugin: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--plugin", help=_PLUGIN_HELP, show_default=False)] = None,
    limit: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--limit", help=_LIMIT_HELP, show_default=False)] = None,
) -> None:
    """Make a COCO instance-segmentation dataset: OUT/images/*.png and OUT/annotations.json."""
    from tqdm import tqdm

    from synthscene.config.loading import load_scenario
    from synthscene.resources import default_scene_path

    if resume and overwrite:
        raise _fail("--resume and --overwrite exclude each other")
    if address is not None and executor is not _Executor.ray:
        raise _fail("--address needs --executor ray")
    bars: list[tqdm] = []
    started = False
    try:
        from synthscene.config.limits import parse_limit_options
        from synthscene.plugins import load_plugins

        limits = parse_limit_options(limit or ())
        load_plugins(plugin or ())
        scenario = load_scenario(scene if scene is not None else default_scene_path(),
                                 limits=limits)
        from synthscene.run.pipeline import generate as run

        def on_start(total: int, finished: int) -> None:
            nonlocal started
            started = True
            bars.append(tqdm(total=total, initial=finished, unit="frame", disable=quiet,
                             dynamic_ncols=True, desc=printable(scenario.spec.name),
                             smoothing=0.1))

        summary = run(scenario, out, frames=frames, seed=seed, overwrite=overwrite,
                      resume=resume, workers=workers, executor=executor.value,
                      address=address, plugins=plugin or (), on_start=on_start,
                      on_frame=lambda _done: bars[0].update(1))
    except SynthsceneError as exc:
        _close(bars)
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        _close(bars)
        if started:
            typer.echo("synthscene: interrupted; no annotations.json was written. Finished "
                       "frames are kept: run the same command with --resume to complete the "
                       "dataset.", err=True)
        else:
            typer.echo("synthscene: interrupted before the run started; no frame was made.",
                       err=True)
        raise typer.Exit(130) from None
    _close(bars)
    typer.echo(_summary_text(summary))


def _close(bars: list) -> None:
    for bar in bars:
        bar.close()


def _summary_text(summary) -> str:
    """The end-of-run report: frames, instances, throughput, time per stage."""
    kept = summary.frames - summary.made
    made = f" ({summary.made} made now, {kept} kept from the interrupted run)" if kept else ""
    if summary.workers == 0:
        how = "nothing to make: the dataset was complete"
    else:
        how = (f"{summary.frames_per_second:.1f} frames/s with {summary.workers} "
               f"worker{'s' if summary.workers > 1 else ''}")
    lines = [f"{summary.frames} frames{made}, {summary.instances} instances in "
             f"{summary.seconds:.1f} s ({how})"]
    if summary.made:
        stages = summary.stage_seconds
        lines.append("time per stage, summed over workers: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in stages.items()))
        lines.append("per frame (ms): " + ", ".join(
            f"{k} {1000 * v / summary.made:.1f}" for k, v in stages.items()))
    lines.append(f"dataset: {summary.out_dir.resolve()} (COCO: {summary.annotations.resolve()})")
    return "\n".join(lines)


def _print_version(value: bool) -> None:
    if value:
        from synthscene.version import __version__

        typer.echo(f"synthscene {__version__}")
        raise typer.Exit()


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                help="Log what the library does.")] = False,
          version: Annotated[bool, typer.Option(
              "--version", callback=_print_version, is_eager=True,
              help="Print the version and exit.")] = False):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SynthsceneError as exc:  # pragma: no cover - commands catch their own
        typer.echo(f"synthscene: error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


# ---------------------------------------------------------------- dataset tools: validate, export
EXIT_INVALID = 1
_DATASET_HELP = "Dataset folder (annotations.json + images/) or a COCO JSON file."
_IMAGES_HELP = "Image folder that file_name is relative to [default: images/ next to the JSON]."


@app.command()
def validate(
    dataset: Annotated[Path, typer.Argument(help=_DATASET_HELP, show_default=False)],
    images: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--images", help=_IMAGES_HELP, show_default=False)] = None,
    max_problems: Annotated[int, typer.Option(
        "--max-problems", min=1, help="Problems listed per failed check.")] = 10,
) -> None:
    """Check a COCO dataset: schema, ids, files and sizes, RLE, boxes, areas, overlaps.

    Prints a report; exits with status 1 if a check fails, 2 if the dataset cannot be read.
    Shows its progress through the file on stderr when that is a terminal.
    """
    from tqdm import tqdm

    from synthscene.tools.validate import validate_dataset

    bar = tqdm(total=0, unit="B", unit_scale=True, disable=None, dynamic_ncols=True,
               file=sys.stderr)

    shown = {"stage": "", "done": 0}

    def progress(stage: str, done: int, total: int) -> None:
        if bar.disable:
            return
        if shown["stage"] != stage:
            shown.update(stage=stage, done=0)
            bar.reset(total=total)
            bar.set_description(stage, refresh=False)
        bar.update(done - shown["done"])
        shown["done"] = done

    try:
        report = validate_dataset(dataset, image_dir=images, progress=progress)
    except SynthsceneError as exc:
        bar.close()
        raise _fail(str(exc)) from None
    bar.close()
    typer.echo(report.format(max_problems=max_problems))
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def visualize(
    dataset: Annotated[Path, typer.Argument(help=_DATASET_HELP, show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the overlay PNGs.",
                                      show_default=False)],
    limit: Annotated[int, typer.Option("-n", "--limit", min=0,
                                       help="Images to draw (the first by id).")] = 16,
    images: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--images", help=_IMAGES_HELP, show_default=False)] = None,
) -> None:
    """Draw masks, boxes, class names and keypoints over the first N images."""
    from synthscene.tools.visualize import visualize_dataset

    try:
        written = visualize_dataset(dataset, out, limit=limit, image_dir=images)
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{len(written)} overlays in {out.resolve()}")


@app.command()
def stats(
    dataset: Annotated[Path, typer.Argument(help=_DATASET_HELP, show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for plots and summaries.",
                                      show_default=False)],
) -> None:
    """Plot class, per-image, box size/aspect, visibility and box-centre statistics.

    Writes PNG plots, stats.json and stats.md into --out.
    """
    from synthscene.tools.stats import write_stats

    try:
        figures = write_stats(dataset, out)
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    for note in figures["notes"]:
        typer.echo(f"note: {note}")
    typer.echo(f"{figures['images']} images, {figures['annotations']} annotations; "
               f"{len(figures['plots'])} plots, stats.json and stats.md in {out.resolve()}")


@app.command()
def export(
    dataset: Annotated[Path, typer.Argument(help=_DATASET_HELP, show_default=False)],
    to: Annotated[str, typer.Option(
        "--to", help="Format: yolo, bop, coco, coco-polygons, panoptic, mot, youtube-vis, hf or "
        "webdataset.",
        show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.",
                                      show_default=False)],
    split: Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--split", help="Split by image, e.g. train=0.8,val=0.1,test=0.1 [default: none].",
        show_default=False)] = None,
    split_seed: Annotated[int, typer.Option("--split-seed", min=0,
                                            help="Seed of the split.")] = 0,
    task: Annotated[str, typer.Option("--task", help="YOLO labels: detect or segment.")
                    ] = "detect",
    overwrite: Annotated[bool, typer.Option(
        help="Replace an export of this format already in --out (removes only the files it "
        "wrote).")] = False,
    images: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--images", help=_IMAGES_HELP, show_default=False)] = None,
    shard_size: Annotated[Optional[int], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--shard-size", help="hf, webdataset: most images per shard \\[default: 1000, and at "
        "least 8 shards per split of 8 images or more].", show_default=False)] = None,
    num_shards: Annotated[Optional[int], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--num-shards", help="hf, webdataset: shards per split (e.g. GPUs x loader workers); "
        "excludes --shard-size.", show_default=False)] = None,
    copy: Annotated[bool, typer.Option(
        "--copy", help="coco: copy the images instead of hard-linking them.")] = False,
) -> None:
    """Convert a dataset to YOLO, BOP, COCO-2017 folders, COCO polygons, COCO panoptic, MOT,
    YouTube-VIS, Hugging Face Parquet or WebDataset shards."""
    from synthscene.exporters import export_dataset, parse_split

    try:
        fractions = parse_split(split) if split is not None else None
        summary = export_dataset(dataset, out, to=to, split=fractions, split_seed=split_seed,
                                 task=task, overwrite=overwrite, image_dir=images,
                                 shard_size=shard_size, num_shards=num_shards, copy=copy)
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    splits = ", ".join(f"{name} {n}" for name, n in summary.images.items() if name)
    total = sum(summary.images.values())
    typer.echo(f"{summary.format}: {total} images{f' ({splits})' if splits else ''}, "
               f"{summary.annotations} annotations in {summary.out_dir.resolve()}")
    for note in summary.notes:
        typer.echo(f"note: {note}")



@app.command()
@_warnings_held
def preview(
    scene: Annotated[Optional[Path], typer.Argument(  # noqa: UP045 (typer needs Optional)
        help="Scenario YAML file [default: the bundled scenes/tabletop.yaml].",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Contact sheet image (PNG).")] = Path(
        "preview.png"),
    grid: Annotated[str, typer.Option("--grid", help="COLUMNSxROWS of frames.")] = "4x4",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Run seed.")] = 0,
    tile_width: Annotated[int, typer.Option("--tile-width", min=32, max=4096,
                                            help="Width of each frame, pixels.")] = 320,
    plugin: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--plugin", help=_PLUGIN_HELP, show_default=False)] = None,
    limit: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--limit", help=_LIMIT_HELP, show_default=False)] = None,
) -> None:
    """Render a contact sheet of random frames with mask and box overlays (writes no dataset)."""
    from synthscene.config.loading import load_scenario
    from synthscene.resources import default_scene_path
    from synthscene.tools.preview import parse_grid, preview_sheet, write_preview

    try:
        columns, rows = parse_grid(grid)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        from synthscene.config.limits import parse_limit_options
        from synthscene.plugins import load_plugins

        limits = parse_limit_options(limit or ())
        load_plugins(plugin or ())
        scenario = load_scenario(scene or default_scene_path(), limits=limits)
        sheet = preview_sheet(scenario, columns=columns, rows=rows, seed=seed,
                              tile_width=tile_width)
        path = write_preview(sheet, out)
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{columns * rows} frames of {printable(scenario.spec.name)} in "
               f"{path.resolve()}")


@app.command()
@_warnings_held
def assets(
    target: Annotated[str, typer.Argument(
        help="A scenario YAML file (its objects, distractors and fixtures) or an asset source: "
             "'pybullet_data:random_urdfs/*/*.urdf', 'dir:PATH', 'file:PATH', ...",
        show_default=False)],
    workers: Annotated[Optional[int], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--workers", "-j", min=1, show_default=False,
        help="Processes that load and check the assets; default: every core.")] = None,
    json_out: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--json", help="Also write the table and the summary as JSON here.",
        show_default=False)] = None,
    sheet: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--sheet", help="Write a contact sheet of every usable asset (PNG); more than "
        "--per-page assets go to numbered pages NAME-001.png, NAME-002.png, ...",
        show_default=False)] = None,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=1000,
                                          help="Assets on one page of the sheet.")] = 100,
    limit: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--limit", help="As generate's (max_mesh_triangles=N checks larger meshes).",
        show_default=False)] = None,
) -> None:
    """Load and check every asset of a scenario or a source: a table, a summary, a sheet.

    Exits with status 0 when every asset is usable, 1 when some are refused (each is named
    with its reason), 2 on bad input.
    """
    import os

    from tqdm import tqdm

    from synthscene.tools.asset_report import check_assets, write_report_json
    from synthscene.tools.asset_sheet import check_sheet_path, write_sheets

    quiet, hush = logging.getLogger("synthscene.assets"), logging.NullHandler()
    propagate, quiet.propagate = quiet.propagate, False  # warnings go in the summary
    quiet.addHandler(hush)
    try:
        from synthscene.config.limits import parse_limit_options

        limits = parse_limit_options(limit or ())
        if sheet is not None:
            check_sheet_path(sheet)
        if json_out is not None and not json_out.parent.is_dir():
            raise _fail(f"{json_out}: cannot write the report: no folder {json_out.parent}")
        bars: list[tqdm] = []
        try:
            report = check_assets(
                target, workers=workers or os.cpu_count() or 1, limits=limits,
                on_start=lambda n: bars.append(tqdm(total=n, unit="asset", disable=None,
                                                    file=sys.stderr, dynamic_ncols=True,
                                                    desc="checking")),
                on_check=lambda _check: bars[0].update(1))
        finally:
            _close(bars)
        for line in [*report.table().splitlines(), *report.summary().splitlines()]:
            typer.echo(printable(line))
        if json_out is not None:
            typer.echo(f"report: {write_report_json(report, json_out).resolve()}")
        if sheet is not None:
            usable = [c for c in report.checks if c.ok]
            bars.append(tqdm(total=len(usable), unit="asset", disable=None, file=sys.stderr,
                             dynamic_ncols=True, desc="drawing"))
            try:
                pages = write_sheets(report.libraries, [c.key for c in usable],
                                     report.sheet_names([c.key for c in usable]), sheet,
                                     per_page=per_page, on_cell=lambda _key: bars[-1].update(1))
            finally:
                _close(bars)
            typer.echo(f"contact sheet of {len(usable)} assets: "
                       + ", ".join(str(p.resolve()) for p in pages))
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    finally:
        quiet.propagate = propagate
        quiet.removeHandler(hush)
    if report.refused:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def docs(
    plugin: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--plugin", help=_PLUGIN_HELP, show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045 (typer needs Optional)
        "--out", "-o", help="Write the Markdown here [default: print it].",
        show_default=False)] = None,
) -> None:
    """Print the randomizer reference (docs/randomizers.md), with the plug-ins' randomizers."""
    from synthscene.plugins import load_entry_points, load_plugins
    from synthscene.tools.reference_docs import registry_markdown

    try:
        load_plugins(plugin or ())
        load_entry_points()  # the reference lists the installed plug-ins' randomizers too
        text = registry_markdown(plugins=True)
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from None
    except SynthsceneError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {out}")


if __name__ == "__main__":  # pragma: no cover
    main()

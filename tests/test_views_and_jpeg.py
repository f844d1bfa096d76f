"""Several camera views per settled scene (``camera.views_per_scene``) and JPEG images
(``render.image_format: jpg``): the same bytes for any worker count and after a kill and
``--resume``; views share the scene; JPEG datasets open in pycocotools and OpenCV."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict

pytestmark = pytest.mark.gl

FRAMES = 10  # not a multiple of K: the last scene has 2 views
VIEWS = 4
SEED = 11
SCENE = {
    "name": "views",
    "image": {"width": 160, "height": 120},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"},
               {"source": "primitive:cylinder"}],
    "objects": {"count": {"randint": [3, 5]}, "size_m": {"uniform": [0.08, 0.15]},
                "drop_region": {"x_m": [-0.2, 0.2], "y_m": [-0.2, 0.2], "z_m": [0.05, 0.2]}},
    "camera": {"distance_m": {"uniform": [0.7, 1.0]}, "views_per_scene": VIEWS},
    "physics": {"max_steps": 300},
}


def scenario(**changes) -> synthscene.Scenario:
    data = json.loads(json.dumps(SCENE))
    for section, fields in changes.items():
        data.setdefault(section, {}).update(fields)
    return scenario_from_dict(data, source="<views>")


def folder_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("views")
    summary = synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED, workers=1)
    assert summary.frames == FRAMES
    coco = COCO(str(out / "annotations.json"))
    images = [coco.imgs[i] for i in sorted(coco.getImgIds())]
    assert [(im["scene_id"], im["view_id"]) for im in images] == [
        (i // VIEWS, i % VIEWS) for i in range(FRAMES)]
    return folder_bytes(out)


def test_two_workers_give_the_same_bytes(reference, tmp_path):
    synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED, workers=2)
    assert folder_bytes(tmp_path) == reference


def test_killed_run_resumes_to_the_same_bytes(reference, tmp_path):
    (tmp_path / "scene.yaml").write_text(json.dumps(SCENE))
    records = tmp_path / "out" / ".synthscene" / "frames"
    cli = subprocess.Popen([sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml",
                            "--out", "out", "--frames", str(FRAMES), "--seed", str(SEED),
                            "--workers", "1",  # in the CLI's own process: the kill stops all
                            "--quiet"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and cli.poll() is None:
        if records.is_dir() and len(list(records.glob("*.json"))) >= 2:
            break
        time.sleep(0.002)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    finished = sorted(int(p.stem) - 1 for p in records.glob("*.json"))
    assert 2 <= len(finished) < FRAMES
    made = []
    synthscene.generate(scenario(), tmp_path / "out", frames=FRAMES, seed=SEED, resume=True,
                        on_frame=made.append)
    # Only the missing views are written (a partly done scene is settled again).
    assert sorted(d.frame_index for d in made) == sorted(set(range(FRAMES)) - set(finished))
    assert folder_bytes(tmp_path / "out") == reference


def test_views_share_the_scene_and_differ_in_camera():
    samples = list(synthscene.iter_samples(scenario(), frames=2 * VIEWS, seed=SEED))
    for scene in range(2):
        views = samples[scene * VIEWS:(scene + 1) * VIEWS]
        first = views[0].state
        labelled = [o for o in first.objects if o.labelled]
        for view in views[1:]:
            others = {o.instance_id: o for o in view.state.objects}
            for obj in labelled:
                np.testing.assert_array_equal(others[obj.instance_id].world_from_object,
                                              obj.world_from_object)
            assert not np.allclose(view.state.camera.world_from_camera,
                                   first.camera.world_from_camera)
    a, b = samples[0].state.objects, samples[VIEWS].state.objects
    assert not all(np.array_equal(x.world_from_object, y.world_from_object)
                   for x, y in zip(a, b))  # the next scene is another scene


def test_one_view_per_scene_is_the_plain_run(tmp_path):
    """``views_per_scene: 1`` is today's frame-per-scene run, byte for byte."""
    plain = scenario()
    data = json.loads(json.dumps(SCENE))
    del data["camera"]["views_per_scene"]
    one = scenario(camera={"views_per_scene": 1})
    synthscene.generate(scenario_from_dict(data), tmp_path / "a", frames=3, seed=SEED)
    synthscene.generate(one, tmp_path / "b", frames=3, seed=SEED)
    a, b = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert {k: v for k, v in a.items() if "manifest" not in k} == \
        {k: v for k, v in b.items() if "manifest" not in k}
    entries = json.loads(a["annotations.json"])["images"]
    assert all("scene_id" not in image for image in entries)
    assert plain.spec.camera.views_per_scene == VIEWS


def test_jpeg_dataset_opens_everywhere_with_the_same_labels(tmp_path):
    png = synthscene.generate(scenario(), tmp_path / "png", frames=5, seed=SEED)
    jpg = synthscene.generate(scenario(render={"image_format": "jpg", "jpeg_quality": 90}),
                              tmp_path / "jpg", frames=5, seed=SEED)
    assert png.instances == jpg.instances
    coco = COCO(str(tmp_path / "jpg" / "annotations.json"))
    for image in coco.imgs.values():
        assert image["file_name"].endswith(".jpg")
        path = tmp_path / "jpg" / "images" / image["file_name"]
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG stream
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert pixels.shape == (image["height"], image["width"], 3)
        reference = cv2.imread(str(tmp_path / "png" / "images" /
                                   image["file_name"].replace(".jpg", ".png")))
        assert np.abs(pixels.astype(int) - reference).mean() < 4  # lossy, but the same image
    a = json.loads((tmp_path / "png" / "annotations.json").read_text())
    b = json.loads((tmp_path / "jpg" / "annotations.json").read_text())
    assert a["annotations"] == b["annotations"]  # labels never depend on the format
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "validate",
                             str(tmp_path / "jpg")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same seed gives the same JPEG bytes.
    again = tmp_path / "again"
    synthscene.generate(scenario(render={"image_format": "jpg", "jpeg_quality": 90}), again,
                        frames=5, seed=SEED)
    assert folder_bytes(again) == folder_bytes(tmp_path / "jpg")


def test_bop_export_keeps_scenes_and_views(reference, tmp_path):
    from synthscene.exporters import export_dataset

    out = tmp_path / "data"
    out.mkdir()
    for name, content in reference.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content)
    export_dataset(out, tmp_path / "bop", to="bop")
    scenes = sorted(p.name for p in (tmp_path / "bop" / "train").iterdir())
    assert scenes == [f"{s:06d}" for s in range((FRAMES + VIEWS - 1) // VIEWS)]
    for s in scenes:
        gt = json.loads((tmp_path / "bop" / "train" / s / "scene_gt.json").read_text())
        expected = min(VIEWS, FRAMES - int(s) * VIEWS)
        assert sorted(int(k) for k in gt) == list(range(expected))
    # A split assigns whole scenes: no scene is seen in two splits.
    export_dataset(out, tmp_path / "split", to="bop", split={"train": 0.5, "val": 0.5})
    folders = {name: {p.name for p in (tmp_path / "split" / name).iterdir()}
               for name in ("train", "val")}
    assert folders["train"] and folders["val"] and not folders["train"] & folders["val"]

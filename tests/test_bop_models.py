"""BOP model folders as an asset source, native sizes and units, read back with BOP's conventions.

A small BOP-style ``models/`` folder is written by hand here (ASCII PLY in millimetres, as the BOP
toolkit's ``inout.save_ply`` writes them: one model with vertex colours, one with per-vertex
``texture_u``/``texture_v`` and a ``comment TextureFile`` PNG; ``models_info.json``). The export is
read as the BOP format documents it (``docs/bop_datasets_format.md``): ``scene_gt.json``
``obj_id``, ``cam_R_m2c`` and ``cam_t_m2c`` (mm) with ``scene_camera.json`` ``cam_K``; the model
vertices projected with them must land on the object's mask, an independent check of the ids,
the poses, the millimetres and the native size at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthetic_coco import build_dataset, read_json, write_json
from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.config.loading import scenario_from_dict
from synthscene.errors import AssetError, ConfigError, DatasetError
from synthscene.exporters import export_dataset
from synthscene.seeding import frame_rng

RED = (220, 30, 30)
GREEN = (30, 200, 40)


def box_quads(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """A box as 24 vertices (4 per face, so each face can have its own texture coordinates)
    and 12 triangles, counter-clockwise seen from outside."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    vertices, faces = [], []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side, corner in ((-1, lo), (1, hi)):
            quad = np.empty((4, 3))
            for n, (cu, cv) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
                quad[n, axis] = corner[axis]
                quad[n, u] = (lo, hi)[cu][u]
                quad[n, v] = (lo, hi)[cv][v]
            normal = np.zeros(3)
            normal[axis] = side
            if np.dot(np.cross(quad[1] - quad[0], quad[2] - quad[0]), normal) < 0:
                quad = quad[::-1]
            k = len(vertices)
            vertices += list(quad)
            faces += [(k, k + 1, k + 2), (k, k + 2, k + 3)]
    return np.array(vertices), np.array(faces)


def write_ply(path: Path, vertices, faces, *, colors=None, uv=None, texture=None) -> None:
    """An ASCII PLY as BOP's models are written."""
    lines = ["ply", "format ascii 1.0"]
    if texture:
        lines.append(f"comment TextureFile {texture}")
    lines += [f"element vertex {len(vertices)}", "property float x", "property float y",
              "property float z"]
    if colors is not None:
        lines += ["property uchar red", "property uchar green", "property uchar blue"]
    if uv is not None:
        lines += ["property float texture_u", "property float texture_v"]
    lines += [f"element face {len(faces)}", "property list uchar int vertex_indices",
              "end_header"]
    for i, p in enumerate(vertices):
        row = [f"{x:.6f}" for x in p]
        row += [str(int(c)) for c in colors[i]] if colors is not None else []
        row += [f"{x:.6f}" for x in uv[i]] if uv is not None else []
        lines.append(" ".join(row))
    lines += ["3 " + " ".join(map(str, f)) for f in faces]
    path.write_text("\n".join(lines) + "\n")


def make_bop_models(folder: Path) -> dict[int, np.ndarray]:
    """Objects 1 (vertex-coloured red, 40 x 60 x 80 mm, origin off its centre) and 5 (textured
    green, 50 x 50 x 30 mm); returns each object's vertices in millimetres."""
    folder.mkdir(parents=True)
    v1, f1 = box_quads((-15, -25, -10), (25, 35, 70))
    write_ply(folder / "obj_000001.ply", v1, f1, colors=np.tile(RED, (len(v1), 1)))
    v5, f5 = box_quads((-25, -25, -15), (25, 25, 15))
    uv = np.tile([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], (6, 1))
    write_ply(folder / "obj_000005.ply", v5, f5, uv=uv, texture="obj_000005.png")
    Image.fromarray(np.tile(np.array(GREEN, np.uint8), (16, 16, 1))).save(
        folder / "obj_000005.png")
    info = {}
    for obj_id, v in ((1, v1), (5, v5)):
        lo, hi = v.min(axis=0), v.max(axis=0)
        info[str(obj_id)] = {"diameter": float(np.linalg.norm(hi - lo)),
                             **{f"min_{a}": float(lo[i]) for i, a in enumerate("xyz")},
                             **{f"size_{a}": float(hi[i] - lo[i]) for i, a in enumerate("xyz")}}
    # Object 5 looks the same turned half a turn about z (BOP: a 4x4 row-major matrix, mm).
    info["5"]["symmetries_discrete"] = [[-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]]
    (folder / "models_info.json").write_text(json.dumps(info))
    return {1: v1, 5: v5}


def test_a_bop_folder_gives_one_asset_per_object_with_its_id_category_and_millimetres(
        tmp_path):
    make_bop_models(tmp_path / "models")
    library = AssetLibrary([AssetSource("bop:models", base_dir=tmp_path, names={5: "tray"})])
    assert library.categories == ("obj_000001", "tray")
    assert [library.bop_obj_id(k) for k in library.keys] == [1, 5]
    one, five = (library.get(k) for k in library.keys)
    assert one.native_size_m == pytest.approx(0.080)  # longest edge, mm -> m
    assert five.native_size_m == pytest.approx(0.050)
    # The file's origin sits where the file puts it, not at the box centre: (5, 5, 30) mm off.
    assert one.file_origin * one.native_size_m == pytest.approx([-0.005, -0.005, -0.030])
    (red,) = library.look(library.keys[0])
    assert tuple(red.vertex_colors[0][:3]) == RED
    (green,) = library.look(library.keys[1])
    texture = green.material.base_color_texture
    assert texture is not None and tuple(texture[8, 8, :3]) == GREEN
    assert green.uv is not None


def test_a_missing_models_info_or_model_file_is_one_line_naming_it(tmp_path):
    make_bop_models(tmp_path / "models")
    with pytest.raises(AssetError, match=r"dataset's root: give its models folder, bop:.*models$"):
        AssetLibrary([AssetSource(f"bop:{tmp_path}")])  # the dataset, not its models
    (tmp_path / "models" / "obj_000005.ply").unlink()
    with pytest.raises(AssetError, match=r"obj_000005\.ply: model of object 5 .*not found"):
        AssetLibrary([AssetSource(f"bop:{tmp_path / 'models'}", where="s.yaml: assets[0]")])
    (tmp_path / "models" / "models_info.json").unlink()
    with pytest.raises(AssetError, match=r"^s\.yaml: assets\[0\]: .*models_info\.json: file "
                                         r"not found") as info:
        AssetLibrary([AssetSource(f"bop:{tmp_path / 'models'}", where="s.yaml: assets[0]")])
    assert "\n" not in str(info.value)
    with pytest.raises(AssetError, match="names gives object id"):
        make_bop_models(tmp_path / "other")
        AssetLibrary([AssetSource(f"bop:{tmp_path / 'other'}", names={7: "x"})])


def test_a_missing_ply_texture_is_one_warning_naming_it_and_no_traceback(tmp_path, caplog):
    make_bop_models(tmp_path / "models")
    (tmp_path / "models" / "obj_000005.png").unlink()
    library = AssetLibrary([AssetSource("bop:models", base_dir=tmp_path)])
    (part,) = library.look(library.keys[1])
    assert part.material.base_color_texture is None
    assert "obj_000005.png, which is missing" in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.parametrize("unit, size", [(None, 40.0), ("m", 40.0), ("cm", 0.4), ("mm", 0.04)])
def test_a_files_unit_gives_its_native_size_in_metres(tmp_path, unit, size):
    import trimesh

    trimesh.creation.box((40.0, 20.0, 10.0)).export(tmp_path / "part.stl")
    library = AssetLibrary([AssetSource("file:part.stl", base_dir=tmp_path, unit=unit)])
    assert library.get(library.keys[0]).native_size_m == pytest.approx(size)


@pytest.mark.parametrize("entry, message", [
    ({"source": "primitive:box", "names": {1: "a"}}, "names is for a source: bop:PATH"),
    ({"source": "bop:models", "names": {1: "a"}, "category": "b"}, "either category"),
    ({"source": "primitive:box", "unit": "km"}, r"unit"),
])
def test_bad_unit_or_names_are_refused_naming_the_field(entry, message):
    with pytest.raises(ConfigError, match=message):
        scenario_from_dict({"assets": [entry]})


def test_size_m_takes_native_or_a_positive_distribution():
    sc = scenario_from_dict({"assets": [{"source": "primitive:box"}],
                             "objects": {"size_m": "native"}})
    with pytest.raises(TypeError):
        sc.spec.objects.size_m.sample(frame_rng(0, 0))
    with pytest.raises(ConfigError, match=r"objects\.size_m: .*or native"):
        scenario_from_dict({"assets": [{"source": "primitive:box"}],
                            "objects": {"size_m": "big"}})


@pytest.mark.parametrize("placement", ["drop", "stable"])
def test_native_size_gives_each_object_its_assets_own_size(tmp_path, placement):
    from synthscene.randomize.scene import sample_scene
    from synthscene.run.scene_libraries import build_libraries

    make_bop_models(tmp_path / "models")
    sc = scenario_from_dict({"assets": [{"source": "bop:models"}],
                             "objects": {"count": 6, "size_m": "native",
                                         "placement": {"name": placement}}},
                            base_dir=tmp_path)
    library = build_libraries(sc)
    state = sample_scene(sc, library, rng=frame_rng(3, 0))
    assert state.objects
    expected = {"obj_000001": 0.080, "obj_000005": 0.050}
    for obj in state.objects:
        assert obj.scale == pytest.approx(expected[obj.category])


def _inside(mask: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Whether each pixel position (u, v) falls on the mask or a pixel next to it."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    col = np.clip(np.floor(uv[:, 0] + 0.5).astype(int), 0, mask.shape[1] - 1)
    row = np.clip(np.floor(uv[:, 1] + 0.5).astype(int), 0, mask.shape[0] - 1)
    on_image = ((uv[:, 0] > -0.5) & (uv[:, 0] < mask.shape[1] - 0.5)
                & (uv[:, 1] > -0.5) & (uv[:, 1] < mask.shape[0] - 0.5))
    return grown[row, col] | ~on_image


@pytest.mark.gl
def test_bop_models_round_trip_through_the_bop_export(tmp_path):
    import synthscene

    vertices_mm = make_bop_models(tmp_path / "models")
    sc = scenario_from_dict({
        "assets": [{"source": "bop:models", "names": {5: "green_box"}}],
        "image": {"width": 128, "height": 96},
        "objects": {"count": 2, "size_m": "native", "material": {"asset_appearance": "keep"},
                    "drop_region": {"x_m": [-0.06, 0.06], "y_m": [-0.06, 0.06],
                                    "z_m": [0.05, 0.15]}},
        "camera": {"distance_m": {"uniform": [0.45, 0.55]},
                   "look_at": {"x_m": [0, 0], "y_m": [0, 0], "z_m": [0.05, 0.05]}},
        "physics": {"enabled": False},
    }, base_dir=tmp_path)
    synthscene.generate(sc, tmp_path / "ds", frames=3, seed=0)
    export_dataset(tmp_path / "ds", tmp_path / "bop", to="bop")

    models_info = json.loads((tmp_path / "bop/models/models_info.json").read_text())
    source_info = json.loads((tmp_path / "models/models_info.json").read_text())
    assert sorted(models_info) == ["1", "5"]
    for name in ("obj_000001.ply", "obj_000005.ply", "obj_000005.png"):  # the models, as given
        assert (tmp_path / "bop/models" / name).read_bytes() == \
            (tmp_path / "models" / name).read_bytes()
    for key, entry in source_info.items():
        for field in ("min_x", "min_y", "min_z", "size_x", "size_y", "size_z", "diameter"):
            assert models_info[key][field] == pytest.approx(entry[field], abs=1e-3)
    assert models_info["5"]["symmetries_discrete"] == source_info["5"]["symmetries_discrete"]

    scene = tmp_path / "bop/train/000000"
    cameras = json.loads((scene / "scene_camera.json").read_text())
    gts = json.loads((scene / "scene_gt.json").read_text())
    infos = json.loads((scene / "scene_gt_info.json").read_text())
    seen: set[int] = set()
    colours = {1: [], 5: []}
    for im_id, objects in gts.items():
        K = np.asarray(cameras[im_id]["cam_K"]).reshape(3, 3)
        rgb = np.asarray(Image.open(scene / f"rgb/{int(im_id):06d}.png").convert("RGB"))
        for gt_id, (gt, info) in enumerate(zip(objects, infos[im_id])):
            obj_id = gt["obj_id"]
            seen.add(obj_id)
            R = np.asarray(gt["cam_R_m2c"]).reshape(3, 3)
            t = np.asarray(gt["cam_t_m2c"])  # mm
            assert 300.0 < t[2] < 700.0  # the camera is 0.45 to 0.55 m from the scene
            points = vertices_mm[obj_id] @ R.T + t
            uv = points[:, :2] / points[:, 2:] @ K[:2, :2].T + K[:2, 2]
            mask = np.asarray(Image.open(scene / f"mask/{int(im_id):06d}_{gt_id:06d}.png")) > 0
            assert _inside(mask, uv).all()
            x, y, w, h = info["bbox_obj"]
            lo, hi = uv.min(axis=0), uv.max(axis=0)
            assert lo == pytest.approx([x - 0.5, y - 0.5], abs=1.5)
            assert hi == pytest.approx([x + w - 0.5, y + h - 0.5], abs=1.5)
            visible = np.asarray(
                Image.open(scene / f"mask_visib/{int(im_id):06d}_{gt_id:06d}.png")) > 0
            if visible.sum() >= 20:
                colours[obj_id].append(rgb[visible].astype(float).mean(axis=0))
    assert seen == {1, 5}
    assert colours[1] and all(c[0] > 1.5 * max(c[1], c[2]) for c in colours[1])  # red
    assert colours[5] and all(c[1] > 1.5 * max(c[0], c[2]) for c in colours[5])  # green


def test_a_native_size_that_cannot_be_right_is_refused_or_warned_about(tmp_path, caplog):
    import trimesh

    from synthscene.run.scene_libraries import build_libraries

    trimesh.creation.box((2000.0, 10.0, 10.0)).export(tmp_path / "beam.stl")  # 2 m, in mm
    sc = scenario_from_dict({"assets": [{"source": "file:beam.stl"}],
                             "objects": {"size_m": "native"}}, base_dir=tmp_path)
    with pytest.raises(AssetError, match=r"objects\.size_m: native: .*beam\.stl is 2000 m"):
        build_libraries(sc)
    sc = scenario_from_dict({"assets": [{"source": "file:beam.stl", "unit": "cm"}],
                             "objects": {"size_m": "native"}}, base_dir=tmp_path)
    build_libraries(sc)  # 20 m: made, with a warning
    assert "unit right" in caplog.text
    caplog.clear()
    sc = scenario_from_dict({"assets": [{"source": "file:beam.stl", "unit": "mm"}],
                             "objects": {"size_m": "native"}}, base_dir=tmp_path)
    library = build_libraries(sc)
    assert library.get(library.keys[0]).native_size_m == pytest.approx(2.0)
    assert "unit right" not in caplog.text


@pytest.mark.gl
def test_a_ply_texture_v_counts_from_the_images_bottom(tmp_path):
    # BOP's renderers flip the texture image upside down before sampling it: texture_v = 0 is
    # the image's bottom row (OpenGL's convention). Top half red, bottom half green; v = 0.1.
    import synthscene
    from conftest import scene, top_down_camera
    from synthscene.core.state import Material, SceneObject

    vertices, faces = box_quads((-25, -25, -5), (25, 25, 5))
    write_ply(tmp_path / "tile.ply", vertices, faces, uv=np.tile([[0.5, 0.1]], (24, 1)),
              texture="tile.png")
    image = np.zeros((16, 16, 3), np.uint8)
    image[:8] = RED
    image[8:] = GREEN
    Image.fromarray(image).save(tmp_path / "tile.png")
    library = AssetLibrary([AssetSource("file:tile.ply", base_dir=tmp_path, unit="mm")])
    pose = np.eye(4)
    pose[2, 3] = 0.05
    obj = SceneObject(instance_id=1, asset_key=library.keys[0], category="tile", scale=0.05,
                      world_from_object=pose,
                      material=Material(base_color=(0.5, 0.5, 0.5, 1.0), appearance="keep"))
    sample = synthscene.render_scene(scene([obj], top_down_camera(64, 48, f=100.0, z=0.4)),
                                     library, shading="flat", keypoints=False)
    assert tuple(sample.render.rgb[24, 32]) == pytest.approx(GREEN, abs=3)


@pytest.mark.gl
def test_drawn_sizes_keep_the_bop_ids_and_say_the_models_have_no_extent(tmp_path):
    import synthscene

    make_bop_models(tmp_path / "models")
    sc = scenario_from_dict({
        "assets": [{"source": "bop:models"}], "image": {"width": 64, "height": 48},
        "objects": {"count": 4, "size_m": {"uniform": [0.05, 0.1]}},
        "camera": {"distance_m": 0.5}, "physics": {"enabled": False}}, base_dir=tmp_path)
    synthscene.generate(sc, tmp_path / "ds", frames=2, seed=1)
    summary = export_dataset(tmp_path / "ds", tmp_path / "bop", to="bop")
    gts = json.loads((tmp_path / "bop/train/000000/scene_gt.json").read_text())
    assert {gt["obj_id"] for objects in gts.values() for gt in objects} <= {1, 5}
    info = json.loads((tmp_path / "bop/models/models_info.json").read_text())
    assert info == {"1": {}, "5": {}}
    assert any("no diameter or extent for obj_id 1, 5" in note for note in summary.notes)
    assert not (tmp_path / "bop/models/obj_000001.ply").exists()  # not the drawn objects' model


def test_the_bop_export_writes_the_obj_ids_the_models_give(tmp_path):
    build_dataset(tmp_path / "ds")
    data = read_json(tmp_path / "ds")
    for model in data["models"]:
        model["obj_id"] = 10 + model["category_id"]
    write_json(tmp_path / "ds", data)
    export_dataset(tmp_path / "ds", tmp_path / "bop", to="bop")
    gts = json.loads((tmp_path / "bop/train/000000/scene_gt.json").read_text())
    by_category = {ann["id"]: ann["category_id"] for ann in data["annotations"]}
    written = [gt["obj_id"] for objects in gts.values() for gt in objects]
    expected = [10 + by_category[ann_id] for ann_id in sorted(by_category)]
    assert written == expected
    info = json.loads((tmp_path / "bop/models/models_info.json").read_text())
    assert sorted(info) == ["11", "12", "13"] and info["11"]["size_x"] == 100.0


@pytest.mark.parametrize("obj_ids, message", [
    ({1: "5"}, r"models\[0\]\.obj_id: must be an integer >= 0, got '5'"),
    ({1: 2}, r"categories 1 and 2 would both be BOP obj_id 2"),
])
def test_bad_obj_ids_in_a_datasets_models_are_one_line_errors(tmp_path, obj_ids, message):
    build_dataset(tmp_path / "ds")
    data = read_json(tmp_path / "ds")
    for model in data["models"]:
        if model["category_id"] in obj_ids:
            model["obj_id"] = obj_ids[model["category_id"]]
    write_json(tmp_path / "ds", data)
    with pytest.raises(DatasetError, match=message):
        export_dataset(tmp_path / "ds", tmp_path / "bop", to="bop")
    assert not (tmp_path / "bop").exists()

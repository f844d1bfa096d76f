"""The ``stable`` placement: objects at rest in their stable poses on support surfaces, with no
simulation; shelves and belts as fixtures; ``physics.settle`` and ``steps_after_placement``.

Truths checked: a box's stable poses are its six faces and a placed box lies on one (its lowest
vertices at the surface height, its orientation one of the 24 axis-aligned ones); assets placed
at rest stay at rest when pybullet then simulates them for a second; pybullet finds no two
placed objects overlapping; objects on a shelf stand on its boards (whose heights follow from
the shelf's drawing), inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pybullet
import pytest
import yaml

from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.config.loading import load_scenario, scenario_from_dict
from synthscene.errors import AssetError, ConfigError
from synthscene.physics.settings import PhysicsSettings
from synthscene.physics.simulator import PhysicsSimulator
from synthscene.randomize.scene import sample_scene
from synthscene.randomize.stable_poses import stable_poses
from synthscene.run.frames import physics_settings
from synthscene.run.scene_libraries import build_libraries
from synthscene.seeding import frame_rng

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"

SURFACE_TOL_M = 1e-6  # the lowest vertex of a resting object against the surface height
RESTING_TOL_M = 2e-4  # the lowest collision point of any asset against the surface: an asset
#                      that collides as hulls rests on them shrunk by the 1 mm collision margin
#                      and inflated again (the shrink is exact within 12%: 0.12 mm)
OVERLAP_TOL_M = 1e-5  # pybullet's closest distance (its collision margin removed) may be this
#                      much below 0 where two shapes touch (float rounding of the contact)


def scenario(**changes):
    """A small scenario of boxes placed with ``stable`` on the ground, updated with ``changes``
    (top-level sections replaced)."""
    data = {
        "assets": [{"source": "primitive:box"}],
        "image": {"width": 64, "height": 48},
        "objects": {"count": 12, "size_m": {"uniform": [0.05, 0.12]},
                    "drop_region": {"x_m": [-0.3, 0.3], "y_m": [-0.3, 0.3], "z_m": [0.1, 0.3]},
                    "placement": {"name": "stable"}},
    }
    data.update(changes)
    return scenario_from_dict(data)


def states(scn, frames: int = 3):
    libs = build_libraries(scn)
    return [sample_scene(scn, libs, rng=frame_rng(7, i), seed=(7, i)) for i in range(frames)], libs


def world_vertices(obj, libs) -> np.ndarray:
    """(n, 3) metres: the object's mesh vertices at its pose."""
    vertices = np.asarray(libs.get(obj.asset_key).mesh.vertices) * obj.scale
    pose = obj.world_from_object
    return vertices @ pose[:3, :3].T + pose[:3, 3]


def lowest_point(obj, libs) -> float:
    """The lowest z (metres) of what the object collides as: its exact solid (closed forms),
    else its collision hulls' points."""
    asset = libs.get(obj.asset_key)
    solid, pose = asset.collision_primitive, obj.world_from_object
    if solid is None:
        return float(min(((np.asarray(h) * obj.scale) @ pose[:3, :3].T)[:, 2].min()
                         for h in asset.collision_hulls) + pose[2, 3])
    frame = pose[:3, :3] @ solid.object_from_primitive[:3, :3]
    centre = (pose @ np.append(solid.object_from_primitive[:3, 3] * obj.scale, 1.0))[2]
    up = abs(frame[2, 2])  # |cos| of the solid's axis with the vertical
    reach = {"box": np.abs(frame[2]) @ np.asarray(solid.half_extents),
             "sphere": solid.radius,
             "cylinder": solid.length / 2 * up + solid.radius * np.sqrt(1 - up**2),
             "capsule": solid.length / 2 * up + solid.radius}[solid.kind]
    return float(centre - reach * obj.scale)


# --------------------------------------------------------------------------------------------
# Boxes: six faces, lying flat


def test_a_box_has_its_six_faces_as_stable_poses():
    asset = AssetLibrary([AssetSource("primitive:box")]).get("primitive:box")
    poses = stable_poses(asset)
    assert len(poses.rotations) == 6
    assert poses.probabilities.sum() == pytest.approx(1.0)
    faces_down = set()
    for rotation in poses.rotations:
        # The world -z direction, in the box's frame, is the outward normal of the face down.
        down = rotation.T @ [0.0, 0.0, -1.0]
        axis = int(np.argmax(np.abs(down)))
        assert abs(down[axis]) == pytest.approx(1.0, abs=1e-9)
        faces_down.add((axis, int(np.sign(down[axis]))))
    assert faces_down == {(a, s) for a in range(3) for s in (-1, 1)}


def test_placed_boxes_lie_on_a_face_on_the_ground():
    frames, libs = states(scenario())
    boxes = [o for state in frames for o in state.objects if o.labelled]
    assert len(boxes) >= 20
    for box in boxes:
        z = world_vertices(box, libs)[:, 2]
        assert abs(z.min()) <= SURFACE_TOL_M
        # The four vertices of the face down all touch.
        assert np.count_nonzero(z <= z.min() + SURFACE_TOL_M) == 4
        rotation = box.world_from_object[:3, :3]
        # Turned about the vertical at random: undo the turn that brings the box's first
        # horizontal axis onto world x; what is left is one of the 24 axis-aligned rotations
        # (a signed permutation with det +1).
        up = rotation.T @ [0.0, 0.0, 1.0]  # the world's up in the box's frame
        flat = next(axis for axis in range(3) if abs(up[axis]) < 0.5)
        x, y = rotation[:2, flat]
        c, s = np.cos(-np.arctan2(y, x)), np.sin(-np.arctan2(y, x))
        unturned = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ rotation
        snapped = np.round(unturned)
        np.testing.assert_allclose(unturned, snapped, atol=1e-9)
        assert sorted(np.abs(snapped).sum(axis=0)) == [1, 1, 1]
        assert np.linalg.det(snapped) == pytest.approx(1.0)


def test_boxes_on_a_belt_rest_on_its_top_inside_it():
    frames, libs = states(scenario(fixtures=[
        {"name": "belt", "source": "primitive:belt", "size_m": 1.2, "position_m": [0.1, 0.0]}],
        objects={"count": 10, "size_m": 0.06, "placement": {
            "name": "stable", "surfaces": ["fixture:belt"]}}))
    # primitive:belt is 1 x 0.2 x 0.025 (longest edge 1): at size 1.2 its top is 0.03 m high.
    top, half_x, half_y = 0.025 * 1.2, 0.6, 0.12
    for state in frames:
        boxes = [o for o in state.objects if o.labelled]
        assert len(boxes) >= 5
        for box in boxes:
            v = world_vertices(box, libs)
            assert abs(v[:, 2].min() - top) <= SURFACE_TOL_M
            assert np.all(np.abs(v[:, 0] - 0.1) <= half_x + 1e-9)
            assert np.all(np.abs(v[:, 1]) <= half_y + 1e-9)


# --------------------------------------------------------------------------------------------
# At rest: pybullet moves nothing


def _random_urdf_sources() -> list[dict]:
    """A handful of pybullet_data's random URDFs that load (a broken one is skipped)."""
    import pybullet_data

    root = Path(pybullet_data.getDataPath())
    sources = []
    for path in sorted(root.glob("random_urdfs/*/*.urdf"))[:40:5]:
        source = f"pybullet_data:{path.relative_to(root).as_posix()}"
        try:
            AssetLibrary([AssetSource(source)]).preload()
        except AssetError:
            continue
        sources.append({"source": source})
    return sources


def test_random_assets_placed_at_rest_stay_at_rest_for_a_second():
    sources = _random_urdf_sources()
    assert len(sources) >= 4
    scn = scenario(assets=sources, objects={
        "count": 8, "size_m": {"uniform": [0.06, 0.14]}, "asset_sampling": "asset",
        "drop_region": {"x_m": [-0.4, 0.4], "y_m": [-0.4, 0.4], "z_m": [0.1, 0.3]},
        "placement": {"name": "stable"}})
    frames, libs = states(scn, frames=2)
    # pybullet's own step, 1/240 s: at synthscene's faster 1/120 s, thin objects sink about
    # 0.6 mm into the ground and rock by a few degrees whatever pose they start in.
    with PhysicsSimulator(libs, PhysicsSettings(timestep=1 / 240)) as sim:
        for state in frames:
            objects = [o for o in state.objects if o.labelled]
            assert len(objects) >= 4
            after = sim.simulate(state, [1.0])[0]
            for before, moved in zip(state.objects, after.objects):
                shift = np.linalg.norm(moved.world_from_object[:3, 3]
                                       - before.world_from_object[:3, 3])
                turn = moved.world_from_object[:3, :3] @ before.world_from_object[:3, :3].T
                angle = np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
                assert shift < 2e-3, (before.asset_key, shift)
                assert angle < 2.0, (before.asset_key, angle)


# --------------------------------------------------------------------------------------------
# No overlaps (pybullet's closest points)


def _closest_distances(state, libs) -> list[tuple[str, str, float]]:
    """pybullet's closest distance of every pair of objects (each collision part a convex
    hull), its collision margin removed (measured on two boxes 1 cm apart)."""
    client = pybullet.connect(pybullet.DIRECT)
    try:
        def body(points_list, pose):
            shapes = [pybullet.createCollisionShape(pybullet.GEOM_MESH, vertices=p.tolist(),
                                                    physicsClientId=client)
                      for p in points_list]
            ids = []
            for shape in shapes:
                ids.append(pybullet.createMultiBody(0, shape, physicsClientId=client))
            return ids

        cube = np.array([[x, y, z] for x in (-.05, .05) for y in (-.05, .05) for z in (-.05, .05)])
        a, b = body([cube], None)[0], body([cube + [0.11, 0, 0]], None)[0]
        reported = pybullet.getClosestPoints(a, b, 0.1, physicsClientId=client)[0][8]
        margin = 0.01 - reported
        bodies = []
        for obj in state.objects:
            hulls = libs.get(obj.asset_key).collision_hulls
            pose = obj.world_from_object
            world = [(np.asarray(h) * obj.scale) @ pose[:3, :3].T + pose[:3, 3] for h in hulls]
            bodies.append((obj, body(world, None)))
        out = []
        for i, (first, parts_a) in enumerate(bodies):
            for second, parts_b in bodies[i + 1:]:
                if not (first.labelled or second.labelled):
                    continue
                d = min((p[8] for pa in parts_a for pb in parts_b
                         for p in pybullet.getClosestPoints(pa, pb, 0.05,
                                                            physicsClientId=client)),
                        default=np.inf)
                out.append((first.asset_key, second.asset_key, d + margin))
        return out
    finally:
        pybullet.disconnect(client)


def test_no_two_placed_objects_overlap():
    data = yaml.safe_load((SCENES / "tabletop.yaml").read_text())
    data["objects"].update(count=30, drop_region={"x_m": [-0.25, 0.25], "y_m": [-0.25, 0.25],
                                                  "z_m": [0.1, 0.3]},
                           placement={"name": "stable"})
    frames, libs = states(scenario_from_dict(data, base_dir=SCENES), frames=2)
    for state in frames:
        distances = _closest_distances(state, libs)
        assert len(distances) >= 100
        worst = min(distances, key=lambda d: d[2])
        assert worst[2] >= -OVERLAP_TOL_M, worst


# --------------------------------------------------------------------------------------------
# Shelves


def test_shelf_objects_stand_on_a_board_inside_the_shelf():
    scn = load_scenario(SCENES / "shelf.yaml")
    frames, libs = states(scn, frames=3)
    for state in frames:
        shelf = next(o for o in state.objects if o.category == "fixture")
        boards = int(shelf.asset_key.rsplit("-", 1)[1])
        # The drawing: 0.8 x 0.3 x 0.92 (the height, its longest edge), 0.02 thick; boards
        # evenly from the floor (top at 0.02) to the top; open at -y, back panel at +y.
        k = shelf.scale / 0.92
        tops = k * np.linspace(0.02, 0.92, boards)
        centre = shelf.world_from_object[:2, 3]
        objects = [o for o in state.objects if o.labelled]
        assert len(objects) >= 4
        for obj in objects:
            v = world_vertices(obj, libs)
            low = lowest_point(obj, libs)
            board = int(np.argmin(np.abs(tops - low)))
            assert abs(tops[board] - low) <= RESTING_TOL_M, (obj.asset_key, low, tops)
            x, y = v[:, 0] - centre[0], v[:, 1] - centre[1]
            assert np.all(np.abs(x) <= k * (0.4 - 0.02) + 1e-9)
            assert np.all((y >= -k * 0.15 - 1e-9) & (y <= k * (0.15 - 0.02) + 1e-9))
            if board < boards - 1:  # below the top: under the next board
                assert v[:, 2].max() <= tops[board + 1] - k * 0.02 + 1e-9
        for first, second, distance in _closest_distances(state, libs):
            # An object stands on a board: only as deep in it as the collision model allows.
            touching = "primitive:shelf" in first + second
            assert distance >= -(RESTING_TOL_M if touching else OVERLAP_TOL_M), (first, second)


def test_shelf_board_count_is_drawn_per_frame():
    frames, _ = states(load_scenario(SCENES / "shelf.yaml"), frames=8)
    keys = {o.asset_key for s in frames for o in s.objects if o.category == "fixture"}
    assert keys <= {"primitive:shelf-3", "primitive:shelf-4", "primitive:shelf-5"}
    assert len(keys) >= 2


# --------------------------------------------------------------------------------------------
# Physics: settle, steps_after_placement


def test_stable_placement_skips_settling_unless_asked():
    assert physics_settings(scenario()).settle is False
    assert physics_settings(scenario(objects={})).settle is True  # drop
    assert physics_settings(scenario(physics={"settle": True})).settle is True
    settings = physics_settings(scenario(physics={"settle": False, "steps_after_placement": 12}))
    frames, libs = states(scenario(), frames=1)
    with PhysicsSimulator(libs, physics_settings(scenario())) as sim:
        assert sim.settle(frames[0]) is frames[0]
    with PhysicsSimulator(libs, settings) as sim:
        after = sim.settle(frames[0])
    assert after.physics_steps == 12
    for a, b in zip(frames[0].objects, after.objects):
        assert np.linalg.norm(a.world_from_object[:3, 3] - b.world_from_object[:3, 3]) < 2e-3


@pytest.mark.parametrize(("changes", "words"), [
    ({"objects": {"placement": {"name": "stable", "surfaces": ["fixture:table"]}}},
     ["fixture:table", "names no fixture"]),
    ({"objects": {"placement": {"name": "stable", "surfaces": ["table"]}}},
     ["surfaces", "ground or fixture:NAME"]),
    ({"ground": {"enabled": False}}, ["objects.placement.surfaces", "ground.enabled"]),
    ({"fixtures": [{"source": "primitive:box", "boards": 3}]}, ["boards", "primitive:shelf"]),
    ({"fixtures": [{"source": "primitive:shelf", "boards": {"randint": [1, 4]}}]},
     ["boards"]),
    ({"physics": {"steps_after_placement": 5}}, ["steps_after_placement", "settle: false"]),
    ({"fixtures": [{"name": "a", "source": "primitive:box"},
                   {"name": "a", "source": "primitive:belt"}]}, ["same name"]),
])
def test_bad_placement_settings_are_one_line_errors(changes, words):
    with pytest.raises(ConfigError) as error:
        scenario(**changes)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_unknown_shelf_board_count_is_an_asset_error():
    with pytest.raises(AssetError, match="shelf-N"):
        AssetLibrary([AssetSource("primitive:shelf-40")])


# --------------------------------------------------------------------------------------------
# The bundled scenarios generate


@pytest.mark.gl
@pytest.mark.parametrize("name", ["shelf", "conveyor"])
def test_bundled_stable_scenarios_generate(name, tmp_path):
    from synthscene.run.pipeline import generate

    data = yaml.safe_load((SCENES / f"{name}.yaml").read_text())
    data["image"] = {"width": 96, "height": 72}
    scn = scenario_from_dict(data, source=f"{name}.yaml", base_dir=SCENES)
    from synthscene.tools.validate import validate_dataset

    generate(scn, tmp_path / "out", frames=2, seed=3, workers=1)
    coco = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert len(coco["images"]) == 2
    assert coco["annotations"]
    assert all(image["physics_steps"] == 0 for image in coco["images"])
    report = validate_dataset(tmp_path / "out")  # what `synthscene validate` checks
    assert report.ok, report.format()


@pytest.mark.gl
@pytest.mark.slow
def test_stable_frames_are_the_same_for_any_worker_count(tmp_path):
    from synthscene.run.pipeline import generate

    data = yaml.safe_load((SCENES / "conveyor.yaml").read_text())
    data["image"] = {"width": 64, "height": 48}
    data["camera"]["views_per_scene"] = 2
    scn = scenario_from_dict(data, source="conveyor.yaml", base_dir=SCENES)
    generate(scn, tmp_path / "one", frames=4, seed=5, workers=1)
    generate(scn, tmp_path / "two", frames=4, seed=5, workers=2)
    for path in sorted((tmp_path / "one").rglob("*")):
        if path.is_file() and ".synthscene" not in path.parts:
            twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
            assert twin.read_bytes() == path.read_bytes(), path.name


def test_instance_ids_run_from_1_with_fixtures_drawn_first():
    # sample_scene renumbers the fixtures drawn before the objects: ids stay 1..N, unique.
    frames, _ = states(scenario(fixtures=[{"name": "belt", "source": "primitive:belt",
                                           "size_m": 1.0}]), frames=2)
    for state in frames:
        ids = [o.instance_id for o in state.objects]
        assert ids == list(range(1, len(ids) + 1))


# --------------------------------------------------------------------------------------------
# Objects that fit nowhere: left out and counted


def crowded(**placement):
    """40 boxes of 0.1 m drawn for a 0.3 m square: most cannot fit."""
    return scenario(objects={"count": 40, "size_m": 0.1,
                             "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                             "z_m": [0.1, 0.3]},
                             "placement": {"name": "stable", **placement}})


def test_objects_that_fit_nowhere_are_left_out_and_counted():
    frames, libs = states(crowded(), frames=3)
    for state in frames:
        placed = [o for o in state.objects if o.labelled]
        assert state.objects_left_out == 40 - len(placed)
        assert 1 <= len(placed) < 40  # far fewer fit than were drawn
    roomy, _ = states(scenario(), frames=2)
    assert [s.objects_left_out for s in roomy] == [0, 0]
    dropped, _ = states(scenario(objects={"count": 5}), frames=1)  # drop: never left out
    assert dropped[0].objects_left_out is None


@pytest.mark.gl
def test_annotations_record_the_objects_left_out(tmp_path):
    from synthscene.run.pipeline import generate
    from synthscene.tools.validate import validate_dataset

    scn = crowded()
    generate(scn, tmp_path / "stable", frames=2, seed=4, workers=1)
    coco = json.loads((tmp_path / "stable" / "annotations.json").read_text())
    libs = build_libraries(scn)
    for image in coco["images"]:
        index = image["id"] - 1
        state = sample_scene(scn, libs, rng=frame_rng(4, index), seed=(4, index))
        placed = sum(o.labelled for o in state.objects)
        assert image["objects_left_out"] == 40 - placed > 0
    assert validate_dataset(tmp_path / "stable").ok
    # drop places every object it draws: no such field, as before.
    generate(scenario(objects={"count": 3}), tmp_path / "drop", frames=1, seed=4, workers=1)
    coco = json.loads((tmp_path / "drop" / "annotations.json").read_text())
    assert "objects_left_out" not in coco["images"][0]

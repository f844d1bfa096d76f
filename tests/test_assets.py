"""Tests of the asset library: sources, categories, normalisation, collision hulls, errors."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

import synthscene.assets.loading as loading_module
from synthscene.assets.library import (
    MAX_HULL_POINTS,
    PRIMITIVE_NAMES,
    Asset,
    AssetLibrary,
    AssetSource,
    bundled_assets_dir,
)
from synthscene.errors import AssetError, SynthsceneError
from tolerances import tol

REPO = Path(__file__).resolve().parents[1]
TOL = tol.float64  # normalisation tolerance (unitless)
HULL_TOL = 1e-6  # hull points may sit on the bounding box


def assert_normalised(asset: Asset) -> None:
    """AABB centred on the origin, longest edge 1, hulls inside the AABB, hull sizes capped."""
    lo, hi = asset.mesh.bounds
    assert np.all(np.abs((lo + hi) / 2) < TOL), (asset.key, lo, hi)
    assert abs((hi - lo).max() - 1.0) < TOL, (asset.key, hi - lo)
    assert len(asset.mesh.faces) > 0
    assert len(asset.collision_hulls) >= 1
    for hull in asset.collision_hulls:
        assert hull.dtype == np.float64 and hull.ndim == 2 and hull.shape[1] == 3
        assert 1 <= len(hull) <= MAX_HULL_POINTS
        assert np.all(np.isfinite(hull))


def hull_points_inside_aabb(asset: Asset, tol: float = HULL_TOL) -> bool:
    lo, hi = asset.mesh.bounds
    points = np.vstack(asset.collision_hulls)
    return bool(np.all(points >= lo - tol) and np.all(points <= hi + tol))


# --------------------------------------------------------------------------------------------
# Primitives


@pytest.mark.parametrize("name", PRIMITIVE_NAMES)
def test_primitive_loads_normalised(name: str) -> None:
    library = AssetLibrary([AssetSource(f"primitive:{name}")])
    assert library.keys == (f"primitive:{name}",)
    assert library.categories == (name,)
    asset = library.get(f"primitive:{name}")
    assert asset.key == f"primitive:{name}"
    assert asset.category == name
    assert asset.source_path is None
    assert_normalised(asset)
    assert hull_points_inside_aabb(asset)
    # Hulls span the mesh (the hull subset keeps the extremes along each axis).
    points = np.vstack(asset.collision_hulls)
    assert np.allclose(points.max(axis=0) - points.min(axis=0), asset.mesh.extents, atol=0.05)


def test_primitives_have_distinct_proportions() -> None:
    library = AssetLibrary([AssetSource(f"primitive:{n}") for n in PRIMITIVE_NAMES])
    library.preload()
    extents = {k: tuple(np.round(np.sort(library.get(k).mesh.extents), 3)) for k in library.keys}
    assert np.allclose(library.get("primitive:box").mesh.extents, (1.0, 0.6, 0.4))
    assert len(set(extents.values())) >= 5  # not all unit cubes


def test_torus_keeps_its_hole_open() -> None:
    asset = AssetLibrary([AssetSource("primitive:torus")]).get("primitive:torus")
    assert len(asset.collision_hulls) > 1
    # No collision part covers the centre of the ring.
    for hull in asset.collision_hulls:
        assert np.linalg.norm(hull[:, :2].mean(axis=0)) > 0.2


def test_category_override_and_cache() -> None:
    library = AssetLibrary([AssetSource("primitive:box", category="crate")])
    assert library.categories == ("crate",)
    assert library.category_of("primitive:box") == "crate"
    first = library.get("primitive:box")
    assert library.get("primitive:box") is first  # loaded once
    assert first.category == "crate"
    assert len(library) == 1
    with pytest.raises(KeyError):
        library.get("primitive:nope")
    with pytest.raises(KeyError):
        library.category_of("primitive:nope")


# --------------------------------------------------------------------------------------------
# pybullet_data

PYBULLET_CASES = [
    ("duck_vhacd.urdf", "duck"),
    ("duck.obj", "duck"),
    ("duck_vhacd.obj", "duck"),
    ("teddy_vhacd.urdf", "teddy"),
    ("objects/mug.urdf", "mug"),
    ("soccerball.urdf", "soccer_ball"),
    ("lego/lego.urdf", "lego"),
    ("bunny.obj", "bunny"),
    ("tray/traybox.urdf", "tray"),
    ("table/table.urdf", "table"),
    ("jenga/jenga.urdf", "jenga"),
    ("domino/domino.urdf", "domino"),
    ("sphere2.urdf", "sphere"),
    ("cube.urdf", "cube"),
    ("random_urdfs/000/000.urdf", "random_object"),
]


@pytest.fixture(scope="module")
def pybullet_library() -> AssetLibrary:
    return AssetLibrary([AssetSource(f"pybullet_data:{rel}") for rel, _ in PYBULLET_CASES])


@pytest.mark.parametrize(("relpath", "category"), PYBULLET_CASES)
def test_pybullet_data_asset(pybullet_library: AssetLibrary, relpath: str, category: str) -> None:
    key = f"pybullet_data:{relpath}"
    assert pybullet_library.category_of(key) == category
    asset = pybullet_library.get(key)
    assert asset.category == category
    assert asset.source_path is not None and asset.source_path.name == Path(relpath).name
    assert_normalised(asset)


def test_pybullet_data_hull_counts(pybullet_library: AssetLibrary) -> None:
    # traybox.urdf has five <box> collisions: base and four tilted walls.
    tray = pybullet_library.get("pybullet_data:tray/traybox.urdf")
    assert len(tray.collision_hulls) == 5
    assert all(len(h) == 8 for h in tray.collision_hulls)
    # duck_vhacd.obj holds a 5-part VHACD decomposition, used by the URDF and on its own.
    assert len(pybullet_library.get("pybullet_data:duck_vhacd.urdf").collision_hulls) == 5
    assert len(pybullet_library.get("pybullet_data:duck_vhacd.obj").collision_hulls) == 5
    assert len(pybullet_library.get("pybullet_data:teddy_vhacd.urdf").collision_hulls) == 15
    assert len(pybullet_library.get("pybullet_data:objects/mug.urdf").collision_hulls) == 6
    # A plain mesh gets one hull of the whole mesh.
    assert len(pybullet_library.get("pybullet_data:bunny.obj").collision_hulls) == 1


def test_pybullet_data_visuals(pybullet_library: AssetLibrary) -> None:
    duck = pybullet_library.get("pybullet_data:duck_vhacd.urdf")
    assert isinstance(duck.mesh.visual, trimesh.visual.TextureVisuals)  # duck.obj's texture kept
    assert duck.mesh.visual.uv is not None and len(duck.mesh.visual.uv) == len(duck.mesh.vertices)
    # mug.obj has no material: the URDF's <color rgba="1 0.2 0.2 1"> becomes its face colour.
    mug = pybullet_library.get("pybullet_data:objects/mug.urdf")
    assert np.all(mug.mesh.visual.face_colors == [255, 51, 51, 255])
    # The duck's visual and VHACD collision meshes coincide: hulls fill its box.
    points = np.vstack(duck.collision_hulls)
    assert np.allclose(points.max(0) - points.min(0), duck.mesh.extents, atol=0.02)
    # Tray: visual tray_textured.obj scaled 0.5 spans ~0.6 m; the tilted walls reach slightly
    # beyond, as in the URDF.
    tray = pybullet_library.get("pybullet_data:tray/traybox.urdf")
    assert hull_points_inside_aabb(tray, tol=0.05)


def test_pybullet_data_glob_indexes_without_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("indexing must not load meshes or parse URDFs")

    monkeypatch.setattr(loading_module.trimesh, "load_scene", refuse)
    monkeypatch.setattr(loading_module, "parse_urdf", refuse)
    library = AssetLibrary([AssetSource("pybullet_data:random_urdfs/*/*.urdf")])
    assert len(library) == 1000
    assert library.categories == ("random_object",)
    assert library.keys[0] == "pybullet_data:random_urdfs/000/000.urdf"
    assert list(library.keys) == sorted(library.keys)
    assert len(set(library.keys)) == 1000


def test_keys_keep_source_order_and_deduplicate() -> None:
    sources = [
        AssetSource("primitive:sphere"),
        AssetSource("pybullet_data:duck.obj"),
        AssetSource("primitive:box"),
        AssetSource("primitive:sphere"),
    ]
    library = AssetLibrary(sources)
    assert library.keys == ("primitive:sphere", "pybullet_data:duck.obj", "primitive:box")
    assert library.categories == ("box", "duck", "sphere")
    with pytest.raises(AssetError, match="different categories"):
        AssetLibrary([AssetSource("primitive:box"), AssetSource("primitive:box", category="x")])


# --------------------------------------------------------------------------------------------
# User folders and files


def write_user_library(root: Path) -> None:
    """root/cup/{a.obj, b.stl}, root/block/{c.ply, nested/d.glb}, plus files to ignore."""
    (root / "cup").mkdir(parents=True)
    (root / "block" / "nested").mkdir(parents=True)
    (root / ".hidden").mkdir()
    trimesh.creation.cylinder(radius=0.04, height=0.1).export(root / "cup" / "a.obj")
    trimesh.creation.annulus(r_min=0.03, r_max=0.04, height=0.12).export(root / "cup" / "b.stl")
    trimesh.creation.box(extents=(0.2, 0.1, 0.05)).export(root / "block" / "c.ply")
    box = trimesh.creation.box(extents=(0.3, 0.3, 0.1))
    box.visual.face_colors = [10, 200, 30, 255]
    trimesh.Scene([box]).export(root / "block" / "nested" / "d.glb")
    (root / "block" / "notes.txt").write_text("not a mesh")
    (root / "loose.obj").write_text("v 0 0 0\n")  # not in a category folder: ignored
    trimesh.creation.box().export(root / ".hidden" / "e.obj")


def test_user_dir(tmp_path: Path) -> None:
    write_user_library(tmp_path / "lib")
    source = AssetSource("dir:lib", base_dir=tmp_path, where="scene.yaml: assets[0].source")
    library = AssetLibrary([source])
    root = (tmp_path / "lib").resolve().as_posix()
    assert library.categories == ("block", "cup")
    assert library.keys == (
        f"dir:{root}/block/c.ply",
        f"dir:{root}/block/nested/d.glb",
        f"dir:{root}/cup/a.obj",
        f"dir:{root}/cup/b.stl",
    )
    assert AssetLibrary([source]).keys == library.keys  # deterministic
    assert [library.category_of(k) for k in library.keys] == ["block", "block", "cup", "cup"]
    library.preload()
    for key in library.keys:
        asset = library.get(key)
        assert_normalised(asset)
        assert hull_points_inside_aabb(asset)
    # Proportions survive normalisation: c.ply is a 0.2 x 0.1 x 0.05 box.
    assert np.allclose(library.get(f"dir:{root}/block/c.ply").mesh.extents, (1.0, 0.5, 0.25))
    # The glb's colour survives.
    glb = library.get(f"dir:{root}/block/nested/d.glb").mesh
    assert np.all(glb.visual.face_colors[:, :3] == [10, 200, 30])


def test_user_dir_category_override_and_absolute_path(tmp_path: Path) -> None:
    write_user_library(tmp_path / "lib")
    library = AssetLibrary([AssetSource(f"dir:{tmp_path / 'lib'}", category="thing")])
    assert library.categories == ("thing",)
    assert len(library) == 4


def test_dir_with_urdf_hides_its_meshes(tmp_path: Path) -> None:
    part = tmp_path / "lib" / "part"
    part.mkdir(parents=True)
    trimesh.creation.box(extents=(0.1, 0.1, 0.1)).export(part / "visual.obj")
    trimesh.creation.box(extents=(0.1, 0.1, 0.1)).export(part / "collision.obj")
    (part / "part.urdf").write_text(
        '<robot name="p"><link name="l">'
        '<visual><geometry><mesh filename="visual.obj"/></geometry></visual>'
        '<collision><geometry><mesh filename="collision.obj"/></geometry></collision>'
        "</link></robot>"
    )
    trimesh.creation.icosphere().export(part / "other.obj")
    library = AssetLibrary([AssetSource(f"dir:{tmp_path / 'lib'}")])
    assert [Path(k).name for k in library.keys] == ["other.obj", "part.urdf"]


@pytest.mark.parametrize("package_folder", ["gripper_description", "gripper"])
def test_dir_with_a_ros_package_indexes_its_urdf_only(tmp_path: Path, package_folder: str) -> None:
    """A ROS package in a category folder: lib/tool/PKG/{package.xml, urdf/gripper.urdf,
    meshes/gripper.obj}, the URDF naming its mesh ``package://gripper_description/...``. The
    package folder is known by its name or by its package.xml: one asset, the URDF."""
    package = tmp_path / "lib" / "tool" / package_folder
    (package / "urdf").mkdir(parents=True)
    (package / "meshes").mkdir()
    (package / "package.xml").write_text(
        '<?xml version="1.0"?><package format="3"><name>gripper_description</name>'
        "<version>0.1.0</version></package>"
    )
    trimesh.creation.box(extents=(0.08, 0.02, 0.04)).export(package / "meshes" / "gripper.obj")
    (package / "urdf" / "gripper.urdf").write_text(
        '<robot name="gripper"><link name="base">'
        "<visual><geometry>"
        '<mesh filename="package://gripper_description/meshes/gripper.obj"/>'
        "</geometry></visual>"
        "<collision><geometry>"
        '<mesh filename="package://gripper_description/meshes/gripper.obj"/>'
        "</geometry></collision>"
        "</link></robot>"
    )
    library = AssetLibrary([AssetSource(f"dir:{tmp_path / 'lib'}")])
    assert len(library) == 1
    (key,) = library.keys
    assert key == f"dir:{(package / 'urdf' / 'gripper.urdf').resolve().as_posix()}"
    assert library.categories == ("tool",)
    asset = library.get(key)
    assert asset.source_path == (package / "urdf" / "gripper.urdf").resolve()
    assert_normalised(asset)
    assert np.allclose(asset.mesh.extents, (1.0, 0.25, 0.5))  # the mesh file's box, normalised


def test_file_sources(tmp_path: Path) -> None:
    trimesh.creation.box(extents=(0.4, 0.2, 0.1)).export(tmp_path / "widget.stl")
    by_prefix = AssetLibrary([AssetSource("file:widget.stl", base_dir=tmp_path)])
    bare = AssetLibrary([AssetSource(str(tmp_path / "widget.stl"), category="gadget")])
    assert (
        by_prefix.keys == bare.keys == (f"file:{(tmp_path / 'widget.stl').resolve().as_posix()}",)
    )
    assert by_prefix.categories == ("widget",)
    assert bare.categories == ("gadget",)
    asset = by_prefix.get(by_prefix.keys[0])
    assert asset.source_path == (tmp_path / "widget.stl").resolve()
    assert np.allclose(asset.mesh.extents, (1.0, 0.5, 0.25))


def test_library_pickles_without_cache() -> None:
    library = AssetLibrary([AssetSource("primitive:cone")])
    library.get("primitive:cone")
    copy = pickle.loads(pickle.dumps(library))
    assert copy.keys == library.keys and copy.categories == library.categories
    assert_normalised(copy.get("primitive:cone"))


# --------------------------------------------------------------------------------------------
# URDF geometry


def box_urdf(path: Path, rpy: str, xyz: str = "0 0 0", extra: str = "") -> None:
    path.write_text(
        '<?xml version="1.0"?><robot name="r"><link name="l">'
        f'<visual><origin xyz="{xyz}" rpy="{rpy}"/><geometry><box size="1 0.5 0.2"/></geometry>'
        '<material name="m"><color rgba="0 0 1 1"/></material></visual>'
        f'<collision><origin xyz="{xyz}" rpy="{rpy}"/><geometry><box size="1 0.5 0.2"/>'
        f"</geometry></collision>{extra}</link></robot>"
    )


@pytest.mark.parametrize(
    ("rpy", "extents"),
    [
        ("0 0 0", (1.0, 0.5, 0.2)),
        ("0 0 1.5707963267948966", (0.5, 1.0, 0.2)),
        ("0 1.5707963267948966 0", (0.2, 0.5, 1.0)),
        # Fixed-axis roll then yaw: R = Rz(yaw) Rx(roll). (Rx Rz would give 0.5, 0.2, 1.)
        ("1.5707963267948966 0 1.5707963267948966", (0.2, 1.0, 0.5)),
    ],
)
def test_urdf_origin_rpy(tmp_path: Path, rpy: str, extents: tuple[float, float, float]) -> None:
    box_urdf(tmp_path / "b.urdf", rpy, xyz="3 2 1")
    asset = AssetLibrary([AssetSource(f"file:{tmp_path / 'b.urdf'}")]).get(
        f"file:{(tmp_path / 'b.urdf').resolve().as_posix()}"
    )
    assert_normalised(asset)
    assert np.allclose(asset.mesh.extents, extents)
    (hull,) = asset.collision_hulls
    assert len(hull) == 8
    assert np.allclose(hull.min(0), -np.asarray(extents) / 2)
    assert np.allclose(hull.max(0), np.asarray(extents) / 2)
    assert np.all(asset.mesh.visual.face_colors == [0, 0, 255, 255])


def solid_points(solid, count: int = 4000) -> np.ndarray:
    """(count, 3) points on the surface of a collision solid, in the asset's frame, from
    trimesh's own primitives (independent of synthscene's conversion)."""
    if solid.kind == "box":
        mesh = trimesh.creation.box(extents=2 * np.asarray(solid.half_extents))
    elif solid.kind == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=4, radius=solid.radius)
    elif solid.kind == "cylinder":
        mesh = trimesh.creation.cylinder(radius=solid.radius, height=solid.length, sections=64)
    else:
        mesh = trimesh.creation.capsule(height=solid.length, radius=solid.radius, count=(32, 32))
    mesh.apply_transform(solid.object_from_primitive)
    return np.asarray(mesh.vertices)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("box", "box"), ("sphere", "sphere"), ("cylinder", "cylinder"), ("capsule", "capsule"),
     ("cone", None), ("torus", None)],
)
def test_primitive_collision_solid_fills_the_normalised_box(name: str, kind: str | None) -> None:
    asset = AssetLibrary([AssetSource(f"primitive:{name}")]).get(f"primitive:{name}")
    solid = asset.collision_primitive
    if kind is None:
        assert solid is None
        return
    assert solid.kind == kind
    # The solid is the visual mesh's shape: same bounding box, longest edge 1.
    points = solid_points(solid)
    assert np.allclose(points.min(0), asset.mesh.bounds[0], atol=1e-3)
    assert np.allclose(points.max(0), asset.mesh.bounds[1], atol=1e-3)


def test_urdf_single_primitive_collision_becomes_the_solid(tmp_path: Path) -> None:
    (tmp_path / "can.urdf").write_text(
        '<robot name="r"><link name="l">'
        '<collision><origin xyz="3 2 1" rpy="1.5707963267948966 0 0"/>'
        '<geometry><cylinder radius="0.25" length="2"/></geometry></collision>'
        "</link></robot>"
    )
    asset = AssetLibrary([AssetSource("file:can.urdf", base_dir=tmp_path)]).get(
        f"file:{(tmp_path / 'can.urdf').resolve().as_posix()}"
    )
    solid = asset.collision_primitive
    assert solid.kind == "cylinder"
    # Rolled a quarter turn about x: the axis lies along y. Normalised by the longest edge, 2.
    assert solid.radius == pytest.approx(0.125) and solid.length == pytest.approx(1.0)
    assert np.allclose(solid.object_from_primitive[:3, 3], 0.0, atol=tol.float64)
    assert np.allclose(np.abs(solid.object_from_primitive[:3, 2]), [0, 1, 0], atol=tol.float64)
    points = solid_points(solid)
    assert np.allclose(points.max(0) - points.min(0), [0.25, 1.0, 0.25], atol=2e-3)


def test_pybullet_data_solids_only_where_the_file_gives_one(pybullet_library) -> None:
    soccer = pybullet_library.get("pybullet_data:soccerball.urdf").collision_primitive
    assert soccer.kind == "sphere" and 0.49 < soccer.radius < 0.51
    assert pybullet_library.get("pybullet_data:objects/mug.urdf").collision_primitive is None
    assert pybullet_library.get("pybullet_data:bunny.obj").collision_primitive is None


def test_urdf_mesh_scale_and_several_visuals(tmp_path: Path) -> None:
    trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(tmp_path / "cube.obj")
    (tmp_path / "two.urdf").write_text(
        '<robot name="r"><link name="l">'
        '<visual><geometry><mesh filename="cube.obj" scale="2 1 1"/></geometry></visual>'
        '<visual><origin xyz="0 0 1"/><geometry><sphere radius="0.5"/></geometry></visual>'
        '<collision><geometry><mesh filename="cube.obj" scale="2 1 1"/></geometry></collision>'
        '<collision><origin xyz="0 0 1"/><geometry><cylinder radius="0.5" length="1"/>'
        "</geometry></collision>"
        "</link></robot>"
    )
    library = AssetLibrary([AssetSource("file:two.urdf", base_dir=tmp_path)])
    asset = library.get(library.keys[0])
    assert library.categories == ("two",)
    # Union: x in [-1, 1], y in [-0.5, 0.5], z in [-0.5, 1.5]: longest edge 2.
    assert np.allclose(asset.mesh.extents, (1.0, 0.5, 1.0), atol=tol.float32)
    assert len(asset.collision_hulls) == 2
    assert np.allclose(asset.collision_hulls[0].max(0), (0.5, 0.25, 0.0))
    assert hull_points_inside_aabb(asset)


def test_bundled_assets() -> None:
    root = bundled_assets_dir()
    assert (root / "LICENSE").is_file() and "CC0" in (root / "LICENSE").read_text()
    def size(folder):
        return sum(p.stat().st_size for p in (root / folder).rglob("*") if p.is_file())

    assert size("meshes") < 200_000
    assert size("textures") < 1_500_000
    library = AssetLibrary([AssetSource("assets:meshes")])
    assert library.categories == ("bracket", "gear", "hex_nut", "washer")
    assert "assets:meshes/bracket/l_bracket.urdf" in library.keys
    assert "assets:meshes/bracket/l_bracket.obj" not in library.keys  # part of the URDF
    library.preload()
    for key in library.keys:
        assert_normalised(library.get(key))
        assert hull_points_inside_aabb(library.get(key))
    assert len(library.get("assets:meshes/bracket/u_bracket.urdf").collision_hulls) == 3
    one = AssetLibrary([AssetSource("assets:meshes/gear/spur_gear_12.obj")])
    assert one.keys == ("assets:meshes/gear/spur_gear_12.obj",)
    assert one.categories == ("gear",)


def test_make_assets_reproduces_shipped_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_assets.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    shipped = bundled_assets_dir() / "meshes"
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made == sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (shipped / rel).read_bytes(), rel


# --------------------------------------------------------------------------------------------
# Errors: one AssetError whose message names the file and the config location

WHERE = "scenes/test.yaml: assets[2].source"


def load_all(source: AssetSource) -> None:
    AssetLibrary([source]).preload()


def check_message(error: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, (part, message)


def test_error_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("file:meshes/nope.obj", where=WHERE, base_dir=tmp_path)])
    check_message(error, WHERE, "nope.obj", "not found")
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("pybullet_data:no_such_thing.urdf", where=WHERE)])
    check_message(error, WHERE, "no_such_thing.urdf")
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("pybullet_data:random_urdfs/*/*.nothing", where=WHERE)])
    check_message(error, WHERE, "*.nothing", "matches no")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.obj", bytes(range(256)) * 8),
        ("x.stl", b"\x01\x02garbage" * 20),
        ("x.ply", b"ply\nformat nonsense\n" + bytes(range(256))),
        ("x.glb", b"glTF" + bytes(range(256))),
        ("x.off", b"OFF\n3 1 0\n0 0 0\n"),
        ("empty.obj", b"# no geometry\n"),
        ("point.obj", b"v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n"),
    ],
)
def test_error_unreadable_mesh(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    library = AssetLibrary([AssetSource(f"file:{name}", where=WHERE, base_dir=tmp_path)])
    with pytest.raises(AssetError) as error:
        library.get(library.keys[0])
    check_message(error, WHERE, name)
    assert isinstance(error.value, SynthsceneError)


def test_error_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("dir:empty", where=WHERE, base_dir=tmp_path)])
    check_message(error, WHERE, "empty", "no category sub-folders")
    (tmp_path / "empty" / "mugs").mkdir()
    (tmp_path / "empty" / "mugs" / "readme.txt").write_text("hi")
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("dir:empty", where=WHERE, base_dir=tmp_path)])
    check_message(error, WHERE, "empty", "no asset files", "mugs")
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("dir:missing", where=WHERE, base_dir=tmp_path)])
    check_message(error, WHERE, "missing", "not found")


def test_error_unknown_primitive() -> None:
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("primitive:dodecahedron", where=WHERE)])
    check_message(error, WHERE, "dodecahedron", *PRIMITIVE_NAMES)


@pytest.mark.parametrize("text", ["http:example.com/duck.obj", "mesh:duck", "pybullet:duck.obj"])
def test_error_unknown_prefix(text: str) -> None:
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource(text, where=WHERE)])
    check_message(error, WHERE, text, "primitive:", "pybullet_data:", "dir:", "file:", "assets:")


def test_error_not_a_source() -> None:
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("duck", where=WHERE)])
    check_message(error, WHERE, "duck")
    with pytest.raises(AssetError) as error:
        AssetLibrary([AssetSource("  ", where=WHERE)])
    check_message(error, WHERE)


def test_error_multi_link_urdf(tmp_path: Path) -> None:
    (tmp_path / "arm.urdf").write_text(
        '<robot name="arm">'
        '<link name="base"><visual><geometry><box size="1 1 1"/></geometry></visual></link>'
        '<link name="tip"><visual><geometry><box size="1 1 1"/></geometry></visual></link>'
        '<joint name="j" type="revolute"><parent link="base"/><child link="tip"/></joint>'
        "</robot>"
    )
    library = AssetLibrary([AssetSource("file:arm.urdf", where=WHERE, base_dir=tmp_path)])
    with pytest.raises(AssetError) as error:
        library.preload()
    check_message(error, WHERE, "arm.urdf", "2 links", "single-link")
    # pybullet_data's robots fail the same way.
    with pytest.raises(AssetError) as error:
        load_all(AssetSource("pybullet_data:r2d2.urdf", where=WHERE))
    check_message(error, WHERE, "r2d2.urdf", "single-link")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "<robot><link name='l'><visual><geometry><mesh filename='gone.obj'/></geometry>"
            "</visual></link></robot>",
            "gone.obj",
        ),
        (
            "<robot><link name='l'><visual><geometry><box size='1 1'/></geometry></visual>"
            "</link></robot>",
            "box size",
        ),
        (
            "<robot><link name='l'><visual><geometry><plane/></geometry></visual></link></robot>",
            "unsupported geometry <plane>",
        ),
        ("<robot><link name='l'>", "cannot parse URDF XML"),
        ("<sdf/>", "expected <robot>"),
    ],
)
def test_error_bad_urdf(tmp_path: Path, body: str, expected: str) -> None:
    (tmp_path / "bad.urdf").write_text(body)
    library = AssetLibrary([AssetSource("file:bad.urdf", where=WHERE, base_dir=tmp_path)])
    with pytest.raises(AssetError) as error:
        library.preload()
    check_message(error, WHERE, "bad.urdf", expected)


def test_error_urdf_with_broken_mesh_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "broken.obj").write_bytes(b"# nothing here\n")
    (tmp_path / "obj.urdf").write_text(
        "<robot><link name='l'><visual><geometry><mesh filename='broken.obj'/></geometry>"
        "</visual></link></robot>"
    )
    library = AssetLibrary([AssetSource("file:obj.urdf", where=WHERE, base_dir=tmp_path)])
    with pytest.raises(AssetError) as error:
        library.preload()
    check_message(error, WHERE, "obj.urdf", "broken.obj", "no triangles")

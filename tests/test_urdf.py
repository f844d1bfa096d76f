"""Tests of synthscene.assets.urdf: single-link URDFs parsed into geometry, poses, sizes, files.

Every expectation is written by hand from the URDF text (sizes, origins, fixed-axis roll-pitch-
yaw rotations, analytic box inertia), not computed with the module's own helpers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthscene.assets.collision import collision_hull, mass_properties
from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.assets.urdf import parse_urdf, resolve_urdf_file, urdf_mesh_files
from synthscene.errors import AssetError
from tolerances import tol

TOL = tol.float64
HALF_PI = "1.5707963267948966"

# A unit cube centred on the origin, as Wavefront OBJ text (8 vertices, 12 triangles).
CUBE_OBJ = """\
v -0.5 -0.5 -0.5
v 0.5 -0.5 -0.5
v 0.5 0.5 -0.5
v -0.5 0.5 -0.5
v -0.5 -0.5 0.5
v 0.5 -0.5 0.5
v 0.5 0.5 0.5
v -0.5 0.5 0.5
f 1 3 2
f 1 4 3
f 5 6 7
f 5 7 8
f 1 2 6
f 1 6 5
f 2 3 7
f 2 7 6
f 3 4 8
f 3 8 7
f 4 1 5
f 4 5 8
"""


def robot(link_body: str, extra: str = "") -> str:
    """URDF text of a robot with one link named 'body'."""
    return (f'<?xml version="1.0"?><robot name="r">{extra}'
            f'<link name="body">{link_body}</link></robot>')


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Geometry kinds, sizes and origins


def test_every_geometry_kind_and_its_size(tmp_path: Path) -> None:
    write(tmp_path / "cube.obj", CUBE_OBJ)
    urdf = write(tmp_path / "kinds.urdf", robot(
        '<visual><geometry><box size="0.1 0.2 0.3"/></geometry></visual>'
        '<visual><geometry><sphere radius="0.05"/></geometry></visual>'
        '<visual><geometry><cylinder radius="0.02" length="0.4"/></geometry></visual>'
        '<visual><geometry><capsule radius="0.03" length="0.5"/></geometry></visual>'
        '<visual><geometry><mesh filename="cube.obj"/></geometry></visual>'
        '<collision><geometry><sphere radius="0.07"/></geometry></collision>'
    ))
    link = parse_urdf(urdf)
    assert link.path == urdf and link.name == "body"
    box, sphere, cylinder, capsule, mesh = link.visuals
    assert [g.kind for g in link.visuals] == ["box", "sphere", "cylinder", "capsule", "mesh"]
    assert box.size == (0.1, 0.2, 0.3) and box.radius == 0.0 and box.length == 0.0
    assert sphere.radius == 0.05 and sphere.size == (0.0, 0.0, 0.0)
    assert (cylinder.radius, cylinder.length) == (0.02, 0.4)
    assert (capsule.radius, capsule.length) == (0.03, 0.5)
    assert mesh.mesh_path == (tmp_path / "cube.obj").resolve()
    assert mesh.mesh_scale == (1.0, 1.0, 1.0)
    for geometry in link.visuals:
        assert np.array_equal(geometry.link_from_geometry, np.eye(4))
        assert geometry.rgba is None and geometry.texture_path is None
    (collision,) = link.collisions
    assert collision.kind == "sphere" and collision.radius == 0.07


@pytest.mark.parametrize(
    ("rpy", "rotation"),
    [
        ("0 0 0", [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
        # Roll a quarter turn about x: y -> z, z -> -y.
        (f"{HALF_PI} 0 0", [[1, 0, 0], [0, 0, -1], [0, 1, 0]]),
        # Pitch a quarter turn about y: z -> x, x -> -z.
        (f"0 {HALF_PI} 0", [[0, 0, 1], [0, 1, 0], [-1, 0, 0]]),
        # Yaw a quarter turn about z: x -> y, y -> -x.
        (f"0 0 {HALF_PI}", [[0, -1, 0], [1, 0, 0], [0, 0, 1]]),
        # Roll then yaw, about the fixed axes: x -> y, y -> z (roll) -> z, z -> -y (roll) -> x.
        (f"{HALF_PI} 0 {HALF_PI}", [[0, 0, 1], [1, 0, 0], [0, 1, 0]]),
    ],
)
def test_origin_xyz_and_fixed_axis_rpy(tmp_path: Path, rpy: str, rotation: list) -> None:
    urdf = write(tmp_path / "o.urdf", robot(
        f'<collision><origin xyz="0.1 -0.2 0.3" rpy="{rpy}"/>'
        '<geometry><box size="1 1 1"/></geometry></collision>'
    ))
    (geometry,) = parse_urdf(urdf).collisions
    expected = np.eye(4)
    expected[:3, :3] = rotation
    expected[:3, 3] = (0.1, -0.2, 0.3)
    assert geometry.link_from_geometry.dtype == np.float64
    assert np.allclose(geometry.link_from_geometry, expected, atol=TOL)


def test_origin_with_only_xyz_or_only_rpy(tmp_path: Path) -> None:
    urdf = write(tmp_path / "o.urdf", robot(
        '<visual><origin xyz="1 2 3"/><geometry><sphere radius="1"/></geometry></visual>'
        f'<visual><origin rpy="0 0 {HALF_PI}"/><geometry><sphere radius="1"/></geometry></visual>'
    ))
    shifted, turned = parse_urdf(urdf).visuals
    assert np.allclose(shifted.link_from_geometry[:3, :3], np.eye(3), atol=TOL)
    assert np.allclose(shifted.link_from_geometry[:3, 3], (1, 2, 3), atol=TOL)
    assert np.allclose(turned.link_from_geometry[:3, 3], 0, atol=TOL)
    assert np.allclose(turned.link_from_geometry[:3, :3] @ (1, 0, 0), (0, 1, 0), atol=TOL)


@pytest.mark.parametrize(
    ("scale", "expected"),
    [(None, (1.0, 1.0, 1.0)), ("2", (2.0, 2.0, 2.0)), ("0.5 2 -1", (0.5, 2.0, -1.0))],
)
def test_mesh_scale(tmp_path: Path, scale: str | None, expected: tuple) -> None:
    write(tmp_path / "meshes" / "cube.obj", CUBE_OBJ)
    attribute = "" if scale is None else f' scale="{scale}"'
    urdf = write(tmp_path / "s.urdf", robot(
        f'<visual><geometry><mesh filename="meshes/cube.obj"{attribute}/></geometry></visual>'
    ))
    (geometry,) = parse_urdf(urdf).visuals
    assert geometry.mesh_scale == expected
    assert geometry.mesh_path == (tmp_path / "meshes" / "cube.obj").resolve()


def test_materials_inline_named_and_clipped(tmp_path: Path) -> None:
    write(tmp_path / "wood.png", "not read by the parser")
    urdf = write(tmp_path / "m.urdf", robot(
        '<visual><geometry><sphere radius="1"/></geometry>'
        '<material name="red"><color rgba="1 0 0 1"/></material></visual>'
        '<visual><geometry><sphere radius="1"/></geometry><material name="blue"/></visual>'
        '<visual><geometry><sphere radius="1"/></geometry>'
        '<material name="bright"><color rgba="2 -1 0.5 1"/></material></visual>'
        '<visual><geometry><sphere radius="1"/></geometry>'
        '<material name="t"><texture filename="wood.png"/></material></visual>'
        '<visual><geometry><sphere radius="1"/></geometry>'
        '<material name="gone"><texture filename="missing.png"/></material></visual>',
        extra='<material name="blue"><color rgba="0 0 1 0.5"/></material>',
    ))
    inline, named, clipped, textured, missing = parse_urdf(urdf).visuals
    assert inline.rgba == (1.0, 0.0, 0.0, 1.0)
    assert named.rgba == (0.0, 0.0, 1.0, 0.5)  # from the robot-level <material name="blue">
    assert clipped.rgba == (1.0, 0.0, 0.5, 1.0)  # into [0, 1]
    assert textured.texture_path == (tmp_path / "wood.png").resolve() and textured.rgba is None
    assert missing.texture_path == tmp_path / "missing.png"  # kept: a warning when rendered


# --------------------------------------------------------------------------------------------
# Mass and inertia: from the collision geometry (an <inertial> element is not read)


def test_box_collision_mass_properties_match_the_analytic_box(tmp_path: Path) -> None:
    """A 0.4 x 0.2 x 0.1 m box, yawed a quarter turn, normalised to 1 x 0.5 x 0.25.

    For unit density a box of edges a, b, c has volume abc and moments V (b^2 + c^2) / 12 etc.:
    V = 0.125, I = 0.125 / 12 * (0.3125, 1.0625, 1.25) about its edges' axes. The <inertial>
    element's made-up numbers must not matter.
    """
    urdf = write(tmp_path / "box.urdf", robot(
        '<inertial><mass value="99"/><inertia ixx="7" iyy="7" izz="7" ixy="0" ixz="0" iyz="0"/>'
        "</inertial>"
        f'<collision><origin xyz="1 2 3" rpy="0 0 {HALF_PI}"/>'
        '<geometry><box size="0.4 0.2 0.1"/></geometry></collision>'
    ))
    asset = AssetLibrary([AssetSource(f"file:{urdf}")]).get(f"file:{urdf.resolve().as_posix()}")
    assert np.allclose(asset.mesh.extents, (0.5, 1.0, 0.25), atol=TOL)  # long edge along y
    mass = mass_properties([collision_hull(points) for points in asset.collision_hulls])
    assert mass.volume == pytest.approx(0.125, rel=tol.float64)
    assert np.allclose(mass.center, 0.0, atol=TOL)  # the box is centred by normalisation
    assert np.allclose(mass.moments, np.array([0.3125, 1.0625, 1.25]) * 0.125 / 12,
                       rtol=tol.float64)
    # The smallest moment is about the long edge, which the yaw turned onto y.
    assert np.allclose(np.abs(mass.axes[:, 0]), (0, 1, 0), atol=tol.float64)
    assert np.allclose(np.abs(mass.axes[:, 2]), (0, 0, 1), atol=tol.float64)
    assert np.linalg.det(mass.axes) == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# package:// and file:// names


@pytest.mark.parametrize("folder_name", ["widget_description", "widget"])
def test_package_uri_resolves_in_the_package_folder(tmp_path: Path, folder_name: str) -> None:
    """ROS layout: PKG/package.xml, PKG/urdf/x.urdf naming package://NAME/meshes/x.obj. The
    package folder is found by its name or by its package.xml's <name>."""
    package = tmp_path / folder_name
    write(package / "package.xml",
          "<package><name>widget_description</name><version>1.0.0</version></package>")
    mesh = write(package / "meshes" / "x.obj", CUBE_OBJ)
    urdf = write(package / "urdf" / "x.urdf", robot(
        '<visual><geometry><mesh filename="package://widget_description/meshes/x.obj"/>'
        "</geometry></visual>"
    ))
    (geometry,) = parse_urdf(urdf).visuals
    assert geometry.mesh_path == mesh.resolve()
    assert resolve_urdf_file("package://widget_description/meshes/x.obj", urdf) == mesh.resolve()
    assert urdf_mesh_files(urdf) == {mesh.resolve()}


def test_package_uri_beside_the_urdf_and_file_uri(tmp_path: Path) -> None:
    beside = write(tmp_path / "meshes" / "a.obj", CUBE_OBJ)  # no package folder: REST beside
    absolute = write(tmp_path / "elsewhere" / "b.obj", CUBE_OBJ)
    urdf = write(tmp_path / "u.urdf", robot(
        '<visual><geometry><mesh filename="package://pkg/meshes/a.obj"/></geometry></visual>'
        f'<visual><geometry><mesh filename="file://{absolute}"/></geometry></visual>'
    ))
    first, second = parse_urdf(urdf).visuals
    assert first.mesh_path == beside.resolve()
    assert second.mesh_path == absolute.resolve()
    assert urdf_mesh_files(urdf) == {beside.resolve(), absolute.resolve()}
    assert resolve_urdf_file("meshes/nothing.obj", urdf) is None


def test_mesh_files_of_a_broken_urdf_are_none(tmp_path: Path) -> None:
    assert urdf_mesh_files(write(tmp_path / "broken.urdf", "<robot><link")) == set()
    assert urdf_mesh_files(tmp_path / "absent.urdf") == set()


# --------------------------------------------------------------------------------------------
# Errors


BOX = '<geometry><box size="1 1 1"/></geometry>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<robot><link", "cannot parse URDF XML"),
        ('<?xml version="1.0"?><model name="m"><link name="a"/></model>', "expected <robot>"),
        ('<robot name="r"/>', "has no <link>"),
        ('<robot name="r"><link name="a"/><link name="b"/></robot>', "2 links ('a', 'b')"),
        (robot("<visual><geometry/></visual>"), "<visual> #0 must have one <geometry> child"),
        (robot(f"<visual>{BOX}</visual><collision><geometry><box size='1 1 1'/><sphere "
               "radius='1'/></geometry></collision>"),
         "<collision> #0 must have one <geometry> child shape, found 2"),
        (robot('<visual><geometry><plane normal="0 0 1"/></geometry></visual>'),
         "unsupported geometry <plane>"),
        (robot('<visual><geometry><box size="1 1"/></geometry></visual>'),
         "<box size> must be 3 finite numbers"),
        (robot('<visual><geometry><box size="1 0 1"/></geometry></visual>'),
         "<box size> must be > 0"),
        (robot('<visual><geometry><sphere radius="nan"/></geometry></visual>'),
         "<sphere radius> must be 1 finite numbers"),
        (robot('<visual><geometry><cylinder radius="0.1" length="-1"/></geometry></visual>'),
         "<cylinder length> must be > 0"),
        (robot('<visual><geometry><capsule radius="0.1"/></geometry></visual>'),
         "<capsule length> must be 1 finite numbers"),
        (robot(f'<visual><origin xyz="1 2"/>{BOX}</visual>'), "<origin xyz> must be 3"),
        (robot(f'<visual><origin rpy="0 0 inf"/>{BOX}</visual>'), "<origin rpy> must be 3"),
        (robot("<visual><geometry><mesh/></geometry></visual>"), "<mesh> has no filename"),
        (robot('<visual><geometry><mesh filename="gone.obj"/></geometry></visual>'),
         "mesh file 'gone.obj' not found"),
        (robot(f'<visual>{BOX}<material name="m"><color rgba="1 0 0"/></material></visual>'),
         "<color rgba> must be 4 finite numbers"),
    ],
)
def test_bad_urdf_raises_naming_file_and_place(tmp_path: Path, text: str, expected: str) -> None:
    urdf = write(tmp_path / "bad.urdf", text)
    with pytest.raises(AssetError) as error:
        parse_urdf(urdf, "scene.yaml: assets[2].source")
    message = str(error.value)
    assert message.startswith(f"scene.yaml: assets[2].source: {urdf}: ")
    assert expected in message
    assert "\n" not in message


def test_bad_mesh_scale_and_missing_file(tmp_path: Path) -> None:
    write(tmp_path / "cube.obj", CUBE_OBJ)
    for scale in ("0", "1 0 1", "1 2", "x"):
        urdf = write(tmp_path / "s.urdf", robot(
            f'<visual><geometry><mesh filename="cube.obj" scale="{scale}"/></geometry></visual>'
        ))
        with pytest.raises(AssetError, match="<mesh scale> must be"):
            parse_urdf(urdf)
    with pytest.raises(AssetError, match="URDF file not found"):
        parse_urdf(tmp_path / "absent.urdf")
